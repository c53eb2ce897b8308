/**
 * `ops deposits` against the local stack's admin API, as an operator uses it: an admin made with
 * `ops admin create`; a held deposit (written as settlement holds one) listed with its reason and
 * rejected with a reason; a release refused until the owner is confirmed; the deposits parked
 * for an address listed by a dry run, then moved by `--apply` through the real queue and
 * consumer into the holder's wallet.
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
let playerId: string;
const ADDRESS = `0x${randomBytes(20).toString("hex")}`;
const held = { a: "", b: "" };
const parked: string[] = [];

async function seedDeposit(status: string, extra: { user?: string; to?: string; reason?: string } = {}) {
	const hash = `0x${randomBytes(32).toString("hex")}`;
	const id = await depositTxId("bep20", hash, 0);
	await neon(stack.databaseUrl).query(
		`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
			confirmations, required_confirmations, hold_reason, hold_detail)
		 VALUES ($1, 'bep20', $2, 0, '8.25', 'USDT', $3, $4, $5::deposit_state, 15, 12, $6::text,
			CASE WHEN $6::text IS NULL THEN NULL ELSE '{"found":"nothing on chain"}'::jsonb END)`,
		[id, hash, extra.to ?? null, extra.user ?? null, status, extra.reason ?? null],
	);
	return id;
}

beforeAll(async () => {
	stack = await startTestStack("deposits");
	token = await signedInAdmin(stack, "ops_dep");
	const registered = await fetch(`${stack.baseUrl}/api/v1/register`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({
			username: `p_${randomBytes(4).toString("hex")}`,
			password: "correct horse battery",
		}),
	});
	expect(registered.status).toBe(201);
	playerId = ((await registered.json()) as { id: string }).id;

	held.a = await seedDeposit("held", { user: playerId, reason: "chain_mismatch" });
	held.b = await seedDeposit("held", { user: playerId, reason: "chain_mismatch" });
	parked.push(
		await seedDeposit("unmatched", { to: ADDRESS }),
		await seedDeposit("unmatched", { to: ADDRESS }),
	);
	await neon(stack.databaseUrl).query(
		"INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at) VALUES ('evm', $1, $2, 'admin', now())",
		[ADDRESS, playerId],
	);
}, 180_000);

afterAll(async () => {
	await stack?.stop();
});

const deposits = (...args: string[]) =>
	runOps(["deposits", ...args, "--host", stack.baseUrl], { OPS_TOKEN: token });

// Each CLI run starts a Node process: several in one test need more than the default on a loaded machine.
describe("ops deposits", { timeout: 120_000 }, () => {
	it("lists the held deposits with why they are held", async () => {
		const run = await deposits("list");
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toMatch(/^TX_ID\s+FIRST_SEEN\s+CHAIN\s+AMOUNT\s+OWNER\s+HOLD_REASON\s+REVIEW/);
		expect(run.stdout).toContain(held.a);
		expect(run.stdout).toContain("chain_mismatch");
		expect(run.stdout).toContain("2 held deposit(s)");
		const json = JSON.parse((await deposits("list", "--json")).stdout) as { hold_detail: unknown }[];
		expect(json[0]!.hold_detail).toEqual({ found: "nothing on chain" });
	});

	it("rejects a held deposit with a reason, and refuses a release that does not confirm the owner", async () => {
		const rejected = await deposits(
			"review",
			held.a,
			"--reject",
			"--reason",
			"nothing on chain for this hash",
		);
		expect(rejected.code, rejected.output).toBe(0);
		expect(rejected.stdout).toContain(`${held.a}: ✓ rejected, now rejected`);
		const unconfirmed = await deposits("review", held.b, "--release", "--reason", "looks fine to me now");
		expect(unconfirmed.code).toBe(1);
		expect(unconfirmed.stdout).toContain("a release must confirm the deposit's owner");
		const noReason = await deposits("review", held.b, "--reject");
		expect(noReason.code).toBe(2);
		expect(noReason.stderr).toContain("review needs --reason");
		const [row] = await neon(stack.databaseUrl).query(
			"SELECT status::text AS status, review_reason FROM deposits WHERE id = $1",
			[held.a],
		);
		expect(row).toEqual({ status: "rejected", review_reason: "nothing on chain for this hash" });
	});

	it("lists the deposits parked for an address, then moves exactly those to its holder", async () => {
		const dry = await deposits("attribute", "--chain", "bep20", "--address", ADDRESS, "--user-id", playerId);
		expect(dry.code, dry.output).toBe(0);
		for (const id of parked) expect(dry.stdout).toContain(id);
		expect(dry.stdout).toContain("dry run: nothing moved");
		const applied = await deposits(
			"attribute",
			"--chain",
			"bep20",
			"--address",
			ADDRESS,
			"--user-id",
			playerId,
			"--apply",
		);
		expect(applied.code, applied.output).toBe(0);
		expect(applied.stdout).toContain(`✓ 2 moved to ${playerId}`);
		const sql = neon(stack.databaseUrl);
		const deadline = Date.now() + 20_000;
		let balance = "";
		while (balance !== "16.50000000" && Date.now() < deadline) {
			const [w] = await sql.query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
				playerId,
			]);
			balance = String(w?.b);
			if (balance !== "16.50000000") await new Promise((r) => setTimeout(r, 200));
		}
		expect(balance).toBe("16.50000000");
	});

	it("exits 2 on a bad action or id", async () => {
		const bare = await runOps(["deposits"]);
		expect(bare.code).toBe(2);
		expect(bare.stderr).toContain("deposits needs an action");
		const bad = await deposits("assign", "nope", "--user-id", playerId);
		expect(bad.code).toBe(2);
		expect(bad.stderr).toContain("the tx_id must be a UUID");
	});
});
