/**
 * `ops shortfalls` against the local stack's admin API: the open shortfalls listed with their
 * frozen player; resolving the first keeps the player frozen (another is open), resolving the
 * last unfreezes them; a repeat is refused (exit 1); a resolve without a note is a usage error.
 */
import { randomBytes } from "node:crypto";
import { neon } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { signedInAdmin } from "./support/stack-admin";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;
let token: string;
let userId: string;
const ids: string[] = [];

beforeAll(async () => {
	stack = await startTestStack("shortfalls");
	token = await signedInAdmin(stack, "ops_short");
	const sql = neon(stack.databaseUrl);
	const [user] = await sql.query(
		`WITH u AS (INSERT INTO users (username, status) VALUES ('frozen_' || substr(md5(random()::text), 1, 6), 'FROZEN') RETURNING id)
		 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
	);
	userId = user!.user_id as string;
	for (const amount of ["5", "7.5"]) {
		const hash = `0x${randomBytes(32).toString("hex")}`;
		const txId = await depositTxId("bep20", hash, 0);
		await sql.query(
			`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, user_id, status, confirmations, required_confirmations)
			 VALUES ($1, 'bep20', $2, 0, 20, 'USDT', $3, 'reversed', 15, 12)`,
			[txId, hash, userId],
		);
		const [row] = await sql.query(
			// The first is the one that froze the player, as settlement marks it.
			"INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency, froze_user) VALUES ($1, $2, $3, 'USDT', $4) RETURNING id",
			[txId, userId, amount, ids.length === 0],
		);
		ids.push(row!.id as string);
	}
}, 180_000);

afterAll(async () => {
	await stack?.stop();
});

const shortfalls = (...args: string[]) =>
	runOps(["shortfalls", ...args, "--host", stack.baseUrl], { OPS_TOKEN: token });
const status = async () =>
	(await neon(stack.databaseUrl).query("SELECT status::text AS s FROM users WHERE id = $1", [userId]))[0]!.s;

describe("ops shortfalls", { timeout: 120_000 }, () => {
	it("lists, resolves one keeping the player frozen, then the last one unfreezing them", async () => {
		const list = await shortfalls("list");
		expect(list.code, list.output).toBe(0);
		expect(list.stdout).toMatch(/^ID\s+RECORDED\s+TX_ID\s+SHORT_BY\s+PLAYER\s+STATUS\s+OPEN/);
		expect(list.stdout).toContain("7.50000000 USDT");
		expect(list.stdout).toContain("FROZEN");
		expect(list.stdout).toContain("2 open shortfall(s)");

		expect((await shortfalls("resolve", ids[0]!)).code).toBe(2);
		const first = await shortfalls("resolve", ids[0]!, "--note", "recovered by bank transfer");
		expect(first.code, first.output).toBe(0);
		expect(first.stdout).toContain("stays FROZEN (1 other open shortfall(s))");
		expect(await status()).toBe("FROZEN");
		const last = await shortfalls("resolve", ids[1]!, "--note", "written off with finance");
		expect(last.code, last.output).toBe(0);
		expect(last.stdout).toContain(`player ${userId} unfrozen`);
		expect(await status()).toBe("ACTIVE");
		const again = await shortfalls("resolve", ids[1]!, "--note", "written off with finance");
		expect(again.code).toBe(1);
		expect(again.stdout).toContain("already resolved");
		expect((await shortfalls("list")).stdout).toContain("no open shortfall");
	});
});
