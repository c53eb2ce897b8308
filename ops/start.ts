/**
 * `npm start`: the whole system on this machine, on embedded Postgres unless DATABASE_URL
 * names a real one. Prints where everything is and how to send a signed webhook; Ctrl-C stops
 * it all.
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

  Edge Worker      ${stack.baseUrl}   (health: ${stack.baseUrl}/api/v1/health)
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

or a webhook for a transaction that is on no chain (what CHAIN_VERIFICATION=sender trusts):

  ${envPrefix}npm run ops -- webhook --synthetic --amount 25.5 --confirmations 12

or sign a body of your own as a source would (README, "Sending a webhook"):

  ${envPrefix}npm run ops -- sign --source moralis --file block.json --send

Press Ctrl-C to stop.
`);

let stopping = false;
const stop = async () => {
	if (stopping) return;
	stopping = true;
	step("stopping …");
	await stack.stop();
	step("stopped");
	process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
