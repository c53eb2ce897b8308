/**
 * `npm start`: the whole system on this machine, on embedded Postgres unless DATABASE_URL
 * names a real one. Prints where everything is and how to send a signed webhook.
 *
 * Supervised: when any part dies the rest is stopped, with what happened and which accepted
 * deposits the ledger does not hold, and the exit code is 1. Ctrl-C drains: intake answers 503
 * with Retry-After, the local queue (in memory only) is waited for until the ledger holds every
 * deposit accepted since start (at most DRAIN_TIMEOUT_SECONDS, default 120), then everything
 * stops. A second Ctrl-C stops at once and lists what may be lost.
 *
 * @module
 */
import { LOCAL_WEBHOOK_SECRET, localSourceSecrets } from "./local/defaults";
import { chainVerificationMode } from "./local/local-chain";
import { startLocalStack } from "./local/stack";

const started = Date.now();
const step = (line: string) =>
	console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

const webhookSecrets = process.env.WEBHOOK_SECRETS || LOCAL_WEBHOOK_SECRET;
let chainVerification: "chain" | "sender";
try {
	chainVerification = chainVerificationMode(process.env.CHAIN_VERIFICATION);
} catch (error) {
	console.error(`npm start failed: ${(error as Error).message}`);
	process.exit(1);
}
const stack = await startLocalStack({
	databaseUrl: process.env.DATABASE_URL || undefined,
	edgePort: process.env.EDGE_PORT ? Number(process.env.EDGE_PORT) : undefined,
	neonPort: process.env.NEON_PORT ? Number(process.env.NEON_PORT) : undefined,
	chainPort: process.env.ANVIL_PORT ? Number(process.env.ANVIL_PORT) : undefined,
	chainVerification,
	webhookSecrets,
	onProgress: step,
	onLog: (line) => console.log(`  worker │ ${line}`),
}).catch((error: unknown) => {
	console.error(`\nnpm start failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exit(1);
});

// The webhook command signs with WEBHOOK_SECRETS and posts to EDGE_PORT: repeat what was set.
const envPrefix = [
	process.env.EDGE_PORT ? `EDGE_PORT=${process.env.EDGE_PORT}` : "",
	process.env.ANVIL_PORT ? `ANVIL_PORT=${process.env.ANVIL_PORT}` : "",
	process.env.WEBHOOK_SECRETS ? `WEBHOOK_SECRETS='${stack.webhookSecret}'` : "",
]
	.filter(Boolean)
	.map((v) => `${v} `)
	.join("");
console.log(`
CricAlgo Edge is running.

  Edge Worker      ${stack.baseUrl}   (webhooks; health: ${stack.baseUrl}/api/v1/health)
  API Worker       behind the edge's service binding, at the same address   (deep health: ${stack.baseUrl}/api/v1/health?deep=1)
  Console          ${stack.baseUrl}/console   (admins: npm run ops -- admin create --username <name>)
  API document     ${stack.baseUrl}/api/v1/openapi.json
  Database         ${stack.describeDatabase}
  Local chain      ${stack.chainRpcUrl}   (anvil; USDT-like tokens for bep20 and erc20; ${
		chainVerification === "chain"
			? "the consumer's chain verification points at it"
			: "CHAIN_VERIFICATION=sender: signed webhooks are trusted"
	})
  Webhook secret   ${stack.webhookSecret}${process.env.WEBHOOK_SECRETS ? "   (from WEBHOOK_SECRETS)" : "   (local default; set WEBHOOK_SECRETS to change)"}
  Other sources    ${Object.entries(localSourceSecrets())
		.map(([name, secret]) => `${name}=${secret}`)
		.join("\n                   ")}
                   (X-Signature, Moralis at /api/v1/webhooks/moralis, Alchemy at /api/v1/webhooks/alchemy)

Make a real USDT transfer on the local chain and send its signed webhook (in another terminal):

  ${envPrefix}npm run ops -- webhook --to-address <deposit address> --amount 25.5

or a webhook for a transaction that is on no chain (${
	chainVerification === "chain"
		? "accepted, then held for review and never credited: the chain has no such transfer"
		: "trusted and credited: CHAIN_VERIFICATION=sender"
})

  ${envPrefix}npm run ops -- webhook --synthetic --amount 25.5 --confirmations 12

or sign a body of your own as a source would (README, "Sending a webhook"):

  ${envPrefix}npm run ops -- sign --source moralis --file block.json --send

Press Ctrl-C to stop: intake closes (503 + Retry-After) and the local queue drains into the
ledger first (it lives in memory: what it holds when the process dies is lost). Ctrl-C twice
stops at once.
`);

const drainTimeoutSeconds = Number(process.env.DRAIN_TIMEOUT_SECONDS || 120);
if (!Number.isFinite(drainTimeoutSeconds) || drainTimeoutSeconds < 0) {
	console.error(
		`npm start: DRAIN_TIMEOUT_SECONDS="${process.env.DRAIN_TIMEOUT_SECONDS}" is not a number of seconds: set it to e.g. 120, or unset it`,
	);
	await stack.stop();
	process.exit(1);
}
let phase: "running" | "draining" | "stopping" = "running";
const stopNow = new AbortController();

/** The accepted deposits the ledger does not hold, as the last lines before exit. */
function reportMissing(missing: string[], why: string, databaseError?: string) {
	if (!missing.length) return;
	const seen = databaseError
		? `could not be found in the ledger (the database did not answer: ${databaseError}); unless they were settled before it went away, they`
		: "are not in the ledger and";
	console.error(`\n${missing.length} deposits answered 202 ${seen} ${why}:`);
	for (const id of missing.slice(0, 50)) console.error(`  ${id}`);
	if (missing.length > 50) console.error(`  … and ${missing.length - 50} more`);
	console.error(
		"Their senders got 202 and will not resend them: send them again (same tx_id, settled once).",
	);
}

async function drainAndStop() {
	phase = "draining";
	step(
		`stopping: intake closed (503 + Retry-After), waiting for the local queue to drain into the ledger (at most ${drainTimeoutSeconds} s; Ctrl-C again stops at once, losing what the queue holds)`,
	);
	const result = await stack.drain({
		timeoutMs: drainTimeoutSeconds * 1000,
		signal: stopNow.signal,
		onProgress: step,
	});
	phase = "stopping";
	step("stopping the Workers, the chain, the Neon endpoint and the database …");
	await stack.stop();
	if (result.missing.length) {
		reportMissing(
			result.missing,
			stopNow.signal.aborted
				? "were lost with the local queue (stopped at once by a second Ctrl-C)"
				: `were lost with the local queue (not settled within ${drainTimeoutSeconds} s)`,
			result.lastError,
		);
		process.exit(1);
	}
	step("stopped; nothing accepted was lost");
	process.exit(0);
}

// One Ctrl-C reaches every process of the terminal's group (npm, tsx, this one), and some relay
// it: signals within a moment of the first are that same Ctrl-C, not a second one.
const SAME_CTRL_C_MS = 1_500;
let firstSignalAt = 0;
const onSignal = () => {
	if (phase === "running") {
		firstSignalAt = Date.now();
		drainAndStop().catch((error: unknown) => {
			console.error(`stopping failed: ${error instanceof Error ? error.message : String(error)}`);
			process.exit(1);
		});
	} else if (phase === "draining" && Date.now() - firstSignalAt > SAME_CTRL_C_MS) {
		step(`stopping at once: ${stack.accepted.size} accepted deposits were not yet seen in the ledger`);
		stopNow.abort();
	}
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

/** A part died, or this process failed: never leave the rest half alive. */
async function failAndStop(what: string) {
	if (phase === "stopping") return;
	const wasDraining = phase === "draining";
	phase = "stopping";
	stopNow.abort();
	console.error(`\nnpm start: ${what}\nThe stack is not whole any more: stopping the rest.`);
	const check = await stack.drain({ timeoutMs: 0 }).catch(() => undefined);
	await stack.stop();
	if (check) reportMissing(check.missing, "may be lost with the local queue", check.lastError);
	if (wasDraining) console.error("(this happened while draining)");
	process.exit(1);
}
stack.failed.then(failAndStop);
process.on("uncaughtException", (error) => {
	void failAndStop(`unexpected error in the host process: ${error.stack ?? error.message}`);
});
process.on("unhandledRejection", (error) => {
	void failAndStop(
		`unexpected error in the host process: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
	);
});
