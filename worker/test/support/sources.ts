/**
 * The test Worker's environment with its webhook sources changed, as an operator would change
 * wrangler.toml: `withSources((s) => { s.original.enabled = false; })`.
 *
 * @module
 */
import { env } from "cloudflare:workers";

/** One source's table, as written in wrangler.toml (see worker/src/lib/webhook-sources.ts). */
export type SourceTable = Record<string, unknown> & {
	enabled?: boolean;
	sunset?: string;
	rate_limiter?: string;
};

export function withSources(
	change: (sources: Record<string, SourceTable>) => void,
	overrides: Partial<Env> = {},
): Env {
	const sources = structuredClone(env.WEBHOOK_SOURCES) as Record<string, SourceTable>;
	change(sources);
	return { ...env, WEBHOOK_SOURCES: sources, ...overrides } as Env;
}
