/**
 * Running wrangler from Node code: the CLI from node_modules, under the Node that runs us
 * (npm scripts put a recent enough one first on PATH), never reaching the internet by itself.
 *
 * @module
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

/** Path of wrangler's CLI script. */
export function wranglerScript(): string {
	return join(dirname(createRequire(import.meta.url).resolve("wrangler/package.json")), "bin/wrangler.js");
}

/** The environment wrangler runs with: no telemetry, no fetch of Cloudflare's request metadata. */
export function wranglerEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
	return { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", ...extra };
}
