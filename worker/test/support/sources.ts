/**
 * The test Worker's webhook sources changed, as an operator would change wrangler.toml, to spread
 * into an environment: `{ ...env, ...withSources((s) => { s.original.enabled = false; }) }`.
 *
 * @module
 */
import { env } from "cloudflare:workers";

/** One source's table, as written in wrangler.toml (see worker/src/lib/webhook-sources.ts). */
type SourceTable = Record<string, unknown> & {
	enabled?: boolean;
	sunset?: string;
	rate_limiter?: string;
};

export function withSources(
	change: (sources: Record<string, SourceTable>) => void,
): Pick<Env, "WEBHOOK_SOURCES"> {
	const sources = structuredClone(env.WEBHOOK_SOURCES) as Record<string, SourceTable>;
	change(sources);
	return { WEBHOOK_SOURCES: sources };
}
