/**
 * The edge Worker's configuration, read from its environment once per environment object (an
 * isolate keeps one for its life): the webhook sources of `WEBHOOK_SOURCES`, each with the secret
 * and the rate limit binding its table names already looked up, so no route reads a binding by a
 * name it was given.
 *
 * A mistake in `WEBHOOK_SOURCES` throws a {@link SourceConfigError} naming the variable, the
 * field and what to write instead; the webhook routes answer it with a retryable 503, so
 * deposits wait for the fix instead of being accepted unchecked (fail closed). The edge holds no
 * database or account settings: those are the API Worker's (api/src/config.ts).
 *
 * @module
 */
import type { Bindings } from "./env";
import { SourceConfigError, type WebhookSource, webhookSources } from "./lib/webhook-sources";

/** A webhook source with what its table names looked up in the environment. */
export interface ConfiguredSource extends WebhookSource {
	/** The value of its secret binding (`secrets`); undefined when that binding holds none. */
	secretValue: string | undefined;
	/** Its `rate_limit` binding; undefined when it has none, or its `rate_limiter` names none. */
	limiter: RateLimit | undefined;
}

export interface EdgeConfig {
	/** The webhook sources by name. */
	sources: ReadonlyMap<string, ConfiguredSource>;
}

export { SourceConfigError };

/** A binding by a name the configuration gives (a source's secrets, its limiter). */
function bindingNamed(env: Bindings, name: string): unknown {
	return Reflect.get(env, name);
}

function isRateLimit(value: unknown): value is RateLimit {
	return typeof (value as { limit?: unknown } | null)?.limit === "function";
}

function configure(env: Bindings): EdgeConfig {
	const sources = new Map<string, ConfiguredSource>();
	for (const [name, source] of webhookSources(env)) {
		const secret = bindingNamed(env, source.secrets);
		if (secret !== undefined && typeof secret !== "string") {
			throw new SourceConfigError(
				`WEBHOOK_SOURCES.${name}.secrets names ${source.secrets}, which is not a secret of this Worker: name the secret binding that holds its secrets (wrangler secret put ${source.secrets})`,
			);
		}
		const limiter = source.rateLimiter ? bindingNamed(env, source.rateLimiter) : undefined;
		sources.set(name, {
			...source,
			secretValue: secret,
			limiter: isRateLimit(limiter) ? limiter : undefined,
		});
	}
	return { sources };
}

const configured = new WeakMap<Bindings, EdgeConfig>();

/**
 * The configuration of `env`, parsed on first use and then kept for that environment object.
 *
 * @throws {SourceConfigError} naming what is wrong in `WEBHOOK_SOURCES` and how to fix it.
 * @example
 * ```ts
 * edgeConfig(c.env).sources.get("moralis")?.limiter;
 * ```
 */
export function edgeConfig(env: Bindings): EdgeConfig {
	let config = configured.get(env);
	if (!config) {
		config = configure(env);
		configured.set(env, config);
	}
	return config;
}
