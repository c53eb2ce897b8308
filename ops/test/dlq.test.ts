/**
 * `ops dlq list|redrive` against the local stack's admin API, as an operator uses it: an admin
 * made with `ops admin create`, logged in with a real TOTP code; dead letters as the consumer
 * records them (rows in `dead_letters`); a redrive must put the message back through the real
 * queue into the deposits table, and a message that can never settle must stay where it is.
 */
import { randomBytes } from "node:crypto";
import { neon } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { accessToken, createdAdmin, type StackAdmin } from "./support/stack-admin";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;
let token: string;
let admin: StackAdmin;
const letters = { valid: "", invalid: "", txId: "" };

beforeAll(async () => {
	stack = await startTestStack("dlq");

	admin = await createdAdmin(stack, "ops_dlq");
	token = await accessToken(stack, admin);

	const txHash = `0x${randomBytes(32).toString("hex")}`;
	letters.txId = await depositTxId("bep20", txHash, 0);
	const body = {
		v: 1,
		tx_id: letters.txId,
		chain: "bep20",
		tx_hash: txHash,
		log_index: 0,
		amount: "12.5",
		currency: "USDT",
		confirmations: 3,
		status: "pending",
		to_address: null,
		user_id: null,
		block_number: null,
		metadata: null,
		webhook_id: `msg_${randomBytes(6).toString("hex")}`,
		received_at: new Date().toISOString(),
	};
	const sql = neon(stack.databaseUrl);
	const rows = await sql.query(
		`INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts) VALUES
			($1, $2, 'queue', 'database unavailable after 10 attempts', $3::jsonb, 10),
			($4, NULL, 'queue', 'not a valid deposit message: tx_hash missing', '{"v":1,"amount":"1"}'::jsonb, 1)
		RETURNING id, reason`,
		[
			`dl-${randomBytes(4).toString("hex")}`,
			letters.txId,
			JSON.stringify(body),
			`dl-${randomBytes(4).toString("hex")}`,
		],
	);
	letters.valid = rows.find((r) => String(r.reason).startsWith("database"))!.id as string;
	letters.invalid = rows.find((r) => String(r.reason).startsWith("not a valid"))!.id as string;
});

afterAll(async () => {
	await stack?.stop();
});

const dlq = (...args: string[]) => runOps(["dlq", ...args, "--host", stack.baseUrl], { OPS_TOKEN: token });

describe("ops dlq", () => {
	it("lists the dead letters waiting, newest first", async () => {
		const run = await dlq("list");
		expect(run.code, run.output).toBe(0);
		const lines = run.stdout.trim().split("\n");
		expect(lines[0]).toMatch(/^ID\s+CREATED\s+SOURCE\s+TX_ID\s+ATTEMPTS\s+REDRIVEN\s+REASON$/);
		expect(run.stdout).toContain(letters.valid);
		expect(run.stdout).toContain(letters.invalid);
		expect(run.stdout).toContain("database unavailable after 10 attempts");
		expect(run.stdout).toContain("2 dead letter(s)");
	});

	it("redrives a dead letter through the queue into the deposits, and refuses one that can never settle", async () => {
		const run = await dlq("redrive", letters.valid, letters.invalid);
		expect(run.code, run.output).toBe(1);
		expect(run.stdout).toContain(
			`[1/2] ${letters.valid}: ✓ sent back onto the deposits queue (tx_id ${letters.txId}`,
		);
		expect(run.stdout).toContain(
			`[2/2] ${letters.invalid}: ✗ its stored message is not a valid deposit message`,
		);
		expect(run.stdout).toContain("1 redriven, 1 not");

		// The consumer took it off the real queue and recorded the deposit.
		const sql = neon(stack.databaseUrl);
		const deadline = Date.now() + 20_000;
		let deposit: Record<string, unknown> | undefined;
		while (!deposit && Date.now() < deadline) {
			[deposit] = await sql.query("SELECT amount::text AS amount FROM deposits WHERE id = $1", [
				letters.txId,
			]);
			if (!deposit) await new Promise((r) => setTimeout(r, 200));
		}
		expect(deposit).toEqual({ amount: "12.50000000" });

		const listed = await dlq("list", "--json");
		const waiting = JSON.parse(listed.stdout) as { id: string }[];
		expect(waiting.map((l) => l.id)).toEqual([letters.invalid]);

		const again = await dlq("redrive", letters.valid);
		expect(again.code).toBe(1);
		expect(again.stdout).toContain("already redriven");
	});

	it("shows the last net, and redrives it (empty here: the local stack's database never went away)", async () => {
		const listed = await dlq("last-net");
		expect(listed.code).toBe(0);
		expect(listed.stdout).toContain("the last net is empty");
		const redriven = await dlq("last-net", "--redrive");
		expect(redriven.code).toBe(0);
		expect(redriven.stdout).toContain("[round 1] 0 sent back onto the dead-letter queue");
		expect(redriven.stdout).toContain("the last net is empty: nothing to redrive");
		const ids = await runOps(["dlq", "last-net", "some-id", "--host", stack.baseUrl], { OPS_TOKEN: token });
		expect(ids.code).toBe(2);
		expect(ids.stderr).toContain("dlq last-net takes no ids");
	});

	it("logs in with username, password and the current TOTP code", async () => {
		// A TOTP code works once per 30-second step: wait for a step no login has used.
		await new Promise((r) => setTimeout(r, 30_000 - (Date.now() % 30_000) + 500));
		const run = await runOps([
			"dlq",
			"list",
			"--include-redriven",
			"--host",
			stack.baseUrl,
			"--username",
			admin.username,
			"--password",
			admin.password,
			"--totp",
			admin.totp(),
		]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain(`redriven 20`);
	}, 60_000);

	it("exits 4 with what to do when the token is refused", async () => {
		const run = await runOps(["dlq", "list", "--host", stack.baseUrl, "--token", "not-a-token"]);
		expect(run.code).toBe(4);
		expect(run.stderr).toContain("answered 401");
		expect(run.stderr).toContain("set OPS_TOKEN to a fresh admin access token");
	});

	it("exits 2 without credentials or without an action", async () => {
		const none = await runOps(["dlq", "list", "--host", stack.baseUrl], { OPS_TOKEN: "" });
		expect(none.code).toBe(2);
		expect(none.stderr).toContain("pass --token (or set OPS_TOKEN)");
		const bare = await runOps(["dlq"]);
		expect(bare.code).toBe(2);
		expect(bare.stderr).toContain("dlq needs an action: list, redrive or last-net");
	});
});
