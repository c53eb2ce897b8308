/**
 * The consumer's cron trigger, on this machine: its re-check (queue-consumer/src/recheck.ts)
 * run every few seconds against the stack's database and chain.
 *
 * Why not the Worker's own `scheduled` handler: `wrangler dev` never fires cron triggers by
 * itself, and with the three Workers in one `wrangler dev` its trigger URL
 * (`/cdn-cgi/local/scheduled`) reaches only the first config's Worker, the edge Worker (tried:
 * the route override header is taken by wrangler's own proxy in front). So the stack runs the
 * same module from Node, with the consumer's own `[vars]` (queue-consumer/wrangler.toml) and
 * the stack's chain settings, through the same Neon driver and endpoint the Worker uses. The
 * consumer tests call the Worker's `scheduled` handler itself, inside workerd.
 *
 * @module
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import {
	parseChainConfig,
	parseConsumerConfig,
	recheckDeposits,
	type SettleContext,
} from "../../queue-consumer/engine";

/** How often the stack re-checks: a few blocks of the local chain (a block a second). */
const LOCAL_RECHECK_INTERVAL_MS = 3_000;

interface RecheckRunner {
	stop(): Promise<void>;
}

/**
 * Starts re-checking every `intervalMs`; a run never overlaps the previous one.
 *
 * @param vars the consumer's variables the stack sets (chain settings), over its wrangler.toml.
 */
export async function startRecheckRunner(options: {
	databaseUrl: string;
	neonEndpoint: string;
	vars: Record<string, string>;
	intervalMs?: number;
	onLog?: (line: string) => void;
}): Promise<RecheckRunner> {
	// Loaded only for a stack that verifies on chain: wrangler's module is large.
	const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
	const configured = unstable_getMiniflareWorkerOptions("queue-consumer/wrangler.toml").workerOptions
		.bindings as Record<string, unknown>;
	const vars = { ...configured, ...options.vars };
	neonConfig.fetchEndpoint = options.neonEndpoint;
	const context: SettleContext = {
		sql: neon(options.databaseUrl),
		config: parseConsumerConfig(vars),
		chain: parseChainConfig(vars),
		versionId: "local",
	};
	let running: Promise<void> | null = null;
	const timer = setInterval(() => {
		if (running) return;
		running = recheckDeposits(context)
			.then((summary) => {
				// Credits inside their reorg window come back every run unchanged ("duplicate"): only news is shown.
				if (Object.keys(summary.outcomes).some((o) => o !== "duplicate")) {
					options.onLog?.(`chain re-check: ${summary.checked} deposits, ${JSON.stringify(summary.outcomes)}`);
				}
			})
			.catch((error: unknown) => options.onLog?.(`chain re-check failed: ${error}`))
			.finally(() => {
				running = null;
			});
	}, options.intervalMs ?? LOCAL_RECHECK_INTERVAL_MS);
	return {
		async stop() {
			clearInterval(timer);
			await running;
		},
	};
}
