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

	it("credits a real transfer once it is final on chain, with no second webhook (the stack's re-check)", async () => {
		const sql = neon(stack.databaseUrl);
		const address = "0x00000000000000000000000000000000000b0b01";
		const [player] = (await sql.query(
			`WITH u AS (INSERT INTO users (username) VALUES ('bob_' || substr(md5(random()::text), 1, 8)) RETURNING id),
			 w AS (INSERT INTO wallets (user_id) SELECT id FROM u)
			 INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at)
			 SELECT 'evm', $1, id, 'admin', now() FROM u RETURNING user_id`,
			[address],
		)) as { user_id: string }[];
		const run = await webhook([
			"--to-address",
			address,
			"--amount",
			"8",
			"--confirmations",
			"1",
			"--status",
			"pending",
		]);
		expect(run.code, run.output).toBe(0);
		const txId = /"tx_id":"([0-9a-f-]{36})"/.exec(run.stdout)?.[1];
		await deposit(txId!);
		const deadline = Date.now() + 45_000;
		let status = "";
		while (status !== "credited" && Date.now() < deadline) {
			await new Promise((r) => setTimeout(r, 500));
			const rows = (await sql.query("SELECT status::text AS status FROM deposits WHERE id = $1", [txId])) as {
				status: string;
			}[];
			status = rows[0]?.status ?? "";
		}
		expect(status).toBe("credited");
		const [wallet] = await sql.query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
			player!.user_id,
		]);
		expect(wallet).toEqual({ b: "8.00000000" });
		const credits = await sql.query("SELECT count(*)::int AS n FROM transactions WHERE related_id = $1", [
			txId,
		]);
		expect(credits).toEqual([{ n: 1 }]);
	});

	it("sends a synthetic webhook behind --synthetic: signed, accepted, and held by the chain-verifying consumer, never credited", async () => {
		const run = await webhook(["--synthetic", "--amount", "1.25", "--confirmations", "12"]);
		expect(run.code, run.output).toBe(0);
		const txId = /"tx_id":"([0-9a-f-]{36})"/.exec(run.stdout)?.[1];
		const row = await deposit(txId!);
		expect(row).toMatchObject({ amount: "1.25000000", confirmations: null });
		const [review] = await neon(stack.databaseUrl).query(
			"SELECT status::text, hold_reason, hold_detail->>'mismatch' AS mismatch FROM deposits WHERE id = $1",
			[txId],
		);
		expect(review).toEqual({ status: "held", hold_reason: "chain_mismatch", mismatch: "not_found" });
		expect(
			await neon(stack.databaseUrl).query("SELECT 1 FROM transactions WHERE related_id = $1", [txId]),
		).toEqual([]);
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
