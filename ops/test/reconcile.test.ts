/**
 * `ops reconcile` on the adopted original database finds each kind of discrepancy a shared
 * database can have, and nothing else: the original's own movements since adoption (a contest
 * entry, a payout) keep it clean; a balance nobody recorded, a deposit row the original wrote
 * after adoption, and a deposit credited by both systems are each reported with exit 1.
 *
 * Needs a Postgres server (TEST_DATABASE_URL), as `ops adopt` does.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { joinContestTheOriginalWay } from "../../test/fixtures/cricalgo-original/seed";
import { createOriginalDatabase, type OriginalDatabase } from "./support/original-database";
import { runOps } from "./support/run-ops";

let db: OriginalDatabase;

beforeAll(async () => {
	if (!process.env.TEST_DATABASE_URL) return;
	db = await createOriginalDatabase("reconcile");
	const adopted = await runOps(["adopt", "--url", db.url, "--apply"]);
	expect(adopted.code, adopted.output).toBe(0);
}, 120_000);

afterAll(async () => {
	await db?.drop();
});

const reconcile = () => runOps(["reconcile", "--url", db.url]);

describe.runIf(process.env.TEST_DATABASE_URL)("ops reconcile on the adopted original database", () => {
	it("accounts for the original's own movements since adoption: a contest entry and a payout", async () => {
		const { meera } = db.seed.players;
		const [contest] = await db.query(
			"INSERT INTO contests (match_id, code, entry_fee) SELECT match_id, 'RECONCILE-1', 12 FROM contests LIMIT 1 RETURNING id",
		);
		await joinContestTheOriginalWay(db.query, meera.id, contest!.id as string, "12");
		await db.query("UPDATE wallets SET winning_balance = winning_balance + 3 WHERE user_id = $1", [meera.id]);
		await db.query(
			`INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id, metadata, processed_at)
			 VALUES ($1, 'internal', 3, 'contest', $2, '{"payout_type": "contest_winning"}', now())`,
			[meera.id, db.seed.contestId],
		);
		const run = await reconcile();
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain("ledger invariants hold");
		expect(run.stdout).toContain("parked by ops adopt");
	});

	it("reads the same database through the Neon HTTP endpoint when NEON_HTTP_ENDPOINT is set (npm start's way in)", async () => {
		const endpoint = inject("neonEndpoint");
		const run = await runOps(["reconcile", "--url", db.url], { NEON_HTTP_ENDPOINT: endpoint });
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain(`through the Neon HTTP endpoint ${endpoint}`);
		expect(run.stdout).toContain("ledger invariants hold");
		expect(run.stdout).toContain("adopted from the original platform at");
	});

	it("reports a balance nobody recorded, and stops reporting it once it is undone", async () => {
		const { ravi } = db.seed.players;
		await db.query("UPDATE wallets SET bonus_balance = bonus_balance + 5 WHERE user_id = $1", [ravi.id]);
		const run = await reconcile();
		expect(run.code).toBe(1);
		expect(run.stdout).toMatch(
			new RegExp(`\\[balance\\] wallet of user ${ravi.id} holds .* its baseline and movements say`),
		);
		await db.query("UPDATE wallets SET bonus_balance = bonus_balance - 5 WHERE user_id = $1", [ravi.id]);
		expect((await reconcile()).code).toBe(0);
	});

	it("reports a deposit the original wrote after adoption, and the double credit once this system credits it too", async () => {
		const { arjun } = db.seed.players;
		const hash = `0x${"7e".repeat(32)}`;
		await db.query(
			`INSERT INTO transactions (user_id, tx_type, amount, metadata, processed_at)
			 VALUES ($1, 'deposit', 8, jsonb_build_object('tx_hash', $2::text, 'chain', 'bep20', 'status', 'confirmed'), now())`,
			[arjun.id, hash],
		);
		await db.query("UPDATE wallets SET deposit_balance = deposit_balance + 8 WHERE user_id = $1", [arjun.id]);
		const unseen = await reconcile();
		expect(unseen.code).toBe(1);
		expect(unseen.stdout).toMatch(
			/\[legacy_history\] deposit row .* was never seen by ops adopt: run it again/,
		);

		// This system credits the same transfer as well (as if its webhook came here too).
		const id = "0b7c1e2a-5f1d-5e8e-9c55-7a1f0c2d3e4f";
		await db.query(
			`INSERT INTO deposits (id, chain, tx_hash, amount, currency, user_id, status, confirmations, required_confirmations, credited_at)
			 VALUES ($1, 'bep20', $2, 8, 'USDT', $3, 'credited', 12, 12, now())`,
			[id, hash, arjun.id],
		);
		await db.query(
			`INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id, metadata)
			 VALUES ($1, 'deposit', 8, 'deposit', $2, '{"inclusion": 1}')`,
			[arjun.id, id],
		);
		await db.query("UPDATE wallets SET deposit_balance = deposit_balance + 8 WHERE user_id = $1", [arjun.id]);
		const both = await reconcile();
		expect(both.code).toBe(1);
		expect(both.stdout).toContain(
			`deposit ${id} (${hash}) is credited here and also by the original platform's row`,
		);
	});
});
