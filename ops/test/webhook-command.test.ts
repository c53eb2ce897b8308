/**
 * `ops webhook` against the local stack (`npm start`'s, with its anvil): by default a real USDT
 * transfer is made on the local chain and the webhook carries what the chain says of it; the
 * deposit is then settled as the stack settles it. `--synthetic` keeps the webhook without a
 * transfer. Usage mistakes exit 2 before anything is sent.
 */
import { neon } from "@neondatabase/serverless";
import { createPublicClient, erc20Abi, http, parseEventLogs } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_TOKENS } from "../local/local-chain";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;

beforeAll(async () => {
	stack = await startTestStack("webhook", { chainVerification: "chain" });
});

afterAll(async () => {
	await stack?.stop();
});

async function deposit(txId: string) {
	const sql = neon(stack.databaseUrl);
	const deadline = Date.now() + 20_000;
	for (;;) {
		const [row] = await sql.query(
			"SELECT tx_hash, log_index, block_number::text AS block_number, amount, to_address, confirmations FROM deposits WHERE id = $1",
			[txId],
		);
		if (row) return row;
		if (Date.now() > deadline) throw new Error(`deposit ${txId} never settled`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

function webhook(args: string[]) {
	return runOps(["webhook", "--url", stack.baseUrl, "--rpc-url", stack.chainRpcUrl, ...args], {
		WEBHOOK_SECRETS: stack.webhookSecret,
	});
}

describe("ops webhook", () => {
	it("makes a real transfer on the local chain and sends the webhook the watcher would", async () => {
		const to = "0x00000000000000000000000000000000000a11ce";
		const run = await webhook(["--to-address", to, "--amount", "25.5", "--confirmations", "3"]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain("confirmations: 3/3");
		const txId = /"tx_id":"([0-9a-f-]{36})"/.exec(run.stdout)?.[1];
		expect(txId, run.stdout).toBeDefined();
		const row = await deposit(txId!);

		const chain = createPublicClient({ transport: http(stack.chainRpcUrl) });
		const receipt = await chain.getTransactionReceipt({ hash: row.tx_hash as `0x${string}` });
		const [log] = parseEventLogs({ abi: erc20Abi, eventName: "Transfer", logs: receipt.logs });
		expect(receipt.status).toBe("success");
		expect(log!.address.toLowerCase()).toBe(LOCAL_TOKENS.bep20.address);
		expect(log!.args.to.toLowerCase()).toBe(to);
		expect(log!.args.value).toBe(25_500_000_000_000_000_000n);
		expect(row).toMatchObject({
			log_index: log!.logIndex,
			block_number: String(receipt.blockNumber),
			amount: "25.50000000",
			to_address: to,
		});
		expect(row.confirmations).toBeGreaterThanOrEqual(3);
	});

	it("keeps the synthetic webhook behind --synthetic", async () => {
		const run = await webhook(["--synthetic", "--amount", "1.25", "--confirmations", "12"]);
		expect(run.code, run.output).toBe(0);
		const txId = /"tx_id":"([0-9a-f-]{36})"/.exec(run.stdout)?.[1];
		const row = await deposit(txId!);
		expect(row).toMatchObject({ amount: "1.25000000", confirmations: 12 });
		await expect(
			createPublicClient({ transport: http(stack.chainRpcUrl) }).getTransactionReceipt({
				hash: row.tx_hash as `0x${string}`,
			}),
		).rejects.toThrow(/could not be found/);
	});

	it.each([
		[[], "needs the deposit's address: --to-address"],
		[["--to-address", "0x1234"], "--to-address must be a 0x address"],
		[
			["--to-address", "0x00000000000000000000000000000000000a11ce", "--chain", "trc20"],
			"use --synthetic for trc20",
		],
		[
			[
				"--to-address",
				"0x00000000000000000000000000000000000a11ce",
				"--chain",
				"erc20",
				"--amount",
				"1.0000001",
			],
			"more decimals than the token's 6",
		],
	])("refuses %j with a clear message and sends nothing", async (args, message) => {
		const run = await webhook(args);
		expect(run.code).not.toBe(0);
		expect(run.stderr).toContain(message);
		expect(run.stdout).not.toContain("POST ");
	});
});
