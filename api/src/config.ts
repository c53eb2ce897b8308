/**
 * The API Worker's configuration, read from its environment once per environment object (an
 * isolate keeps one for its life), as the edge's is (worker/src/config.ts): the console's watch
 * settings (`WATCH` and the Cloudflare credentials), parsed into the client and target the
 * watch page reads, or into what is missing and the command that sets it.
 *
 * Settings each feature checks on its own, at its first use, with a message naming the setting:
 * `JWT_SECRET` (lib/access-token.ts), `TOTP_TEST_BYPASS` (shared/totp.ts, logged at every
 * login where it is misconfigured), `TELEGRAM_BOT_TOKEN` (lib/telegram-login.ts), `DATABASE_URL`
 * (lib/database.ts): a missing one stops that feature alone, with a retryable 503.
 *
 * @module
 */
import { type WatchSource, type WatchUnavailable, watchSource } from "./console/watch-figures";
import type { Bindings } from "./env";

export interface ApiConfig {
	/** What the console's watch page reads, or why it cannot (it then says how to fix it). */
	watch: WatchSource | WatchUnavailable;
}

const configured = new WeakMap<Bindings, ApiConfig>();

/**
 * The configuration of `env`, parsed on first use and then kept for that environment object.
 *
 * @example
 * ```ts
 * const { watch } = apiConfig(c.env);
 * if (!watch.ok) console.log(watch.fix);
 * ```
 */
export function apiConfig(env: Bindings): ApiConfig {
	let config = configured.get(env);
	if (!config) {
		config = { watch: watchSource(env) };
		configured.set(env, config);
	}
	return config;
}
