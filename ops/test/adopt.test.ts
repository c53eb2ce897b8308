/**
 * `ops adopt` on the original CricAlgo database (the fixture, built and seeded the original's
 * way), through the CLI as an operator runs it: the dry run changes nothing; --apply brings the
 * tables to the baseline, applies the migrations, backfills the history and leaves everything
 * else as it was; `ops migrate` works after it; a second run changes nothing; a run stopped by
 * a lock is finished by running it again; a new database just gets the migrations; a database
 * adopt does not recognise, or cannot bring to the baseline, is refused untouched.
 *
 * Needs a Postgres server (TEST_DATABASE_URL): adopt talks to one over TCP, as in production.
 */
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import {
	createEmptyDatabase,
	createOriginalDatabase,
	type OriginalDatabase,
} from "./support/original-database";
import { runOps } from "./support/run-ops";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
	for (const drop of cleanups.splice(0)) await drop();
});

async function original(label: string): Promise<OriginalDatabase> {
	const db = await createOriginalDatabase(label);
	cleanups.push(db.drop);
	return db;
}

/** Everything of the original that adopt must leave alone, as rows. */
async function untouched(db: OriginalDatabase) {
	const tables = [
		"wallets",
		"contest_entries",
		"contests",
		"matches",
		"withdraw_requests",
		"deposit_requests",
		"invitation_codes",
		"alembic_version",
	];
	const out: Record<string, unknown> = {};
	for (const t of tables) out[t] = await db.query(`SELECT to_jsonb(x) AS row FROM ${t} x ORDER BY 1::text`);
	out.other_transactions = await db.query(
		"SELECT to_jsonb(t) AS row FROM transactions t WHERE tx_type NOT IN ('deposit', 'deposit_superseded') ORDER BY id",
	);
	out.users = await db.query(
		"SELECT id, telegram_id::text, username, status::text, created_at FROM users ORDER BY id",
	);
	return out;
}

describe.runIf(process.env.TEST_DATABASE_URL)("ops adopt", () => {
	it("plans without changing anything by default", async () => {
		const db = await original("adopt_plan");
		const before = await untouched(db);
		const run = await runOps(["adopt", "--url", db.url]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain("built by the original CricAlgo platform, not adopted yet");
		expect(run.stdout).toContain("add column users.password_hash (text)");
		expect(run.stdout).toContain("2 deposit row(s) of the original share a related_id");
		expect(run.stdout).toContain("rename constraint users.users_username_key to users_username_unique");
		expect(run.stdout).toMatch(/phase 2, migrations: 0001_/);
		expect(run.stdout).toMatch(/13 deposit record\(s\) of the original not seen before: .*6 credited/);
		expect(run.stdout).toContain("dry run: nothing was changed");
		const [tables] = await db.query(
			"SELECT to_regclass('public.deposits') AS deposits, to_regclass('drizzle.__drizzle_migrations') AS migrations",
		);
		expect(tables).toEqual({ deposits: null, migrations: null });
		expect(await untouched(db)).toEqual(before);
	});

	it("adopts: baseline and migrations recorded, history backfilled, the rest left alone; ops migrate works after it; a second run changes nothing", async () => {
		const db = await original("adopt_apply");
		const before = await untouched(db);
		const refused = await runOps(["migrate", "--url", db.url]);
		expect(refused.code).toBe(1);
		expect(refused.stderr).toMatch(/original CricAlgo platform's database .* npm run ops -- adopt/);

		const run = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain("adoption complete");
		expect(await untouched(db)).toEqual(before);

		const [{ n: recorded } = { n: 0 }] = await db.query(
			"SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations",
		);
		const journal = (await import("../../schema/migrations/meta/_journal.json", { with: { type: "json" } }))
			.default;
		expect(recorded).toBe(journal.entries.length);
		const users = await db.query(
			"SELECT column_name, is_nullable, column_default FROM information_schema.columns WHERE table_name = 'users' AND column_name IN ('password_hash', 'telegram_id') ORDER BY 1",
		);
		expect(users).toEqual([
			{ column_name: "password_hash", is_nullable: "YES", column_default: null },
			{ column_name: "telegram_id", is_nullable: "NO", column_default: "0" },
		]);

		// History: credited deposits linked to their ledger rows, the pending one superseded.
		const { seed } = db;
		const deposits = await db.query(
			"SELECT d.id, d.tx_hash, d.status::text AS status, d.user_id, d.amount::text AS amount FROM deposits d ORDER BY d.amount",
		);
		const expected = [
			[seed.credited.requestWithRow, "credited"],
			[seed.credited.requestOnly, "credited"],
			[seed.credited.meera, "credited"],
			[seed.pending, "pending"],
			[seed.credited.raviSecond, "credited"],
			[seed.credited.raviFirst, "credited"],
		] as const;
		// The two records of one deposit (no rule can map them) are kept as a held deposit of nobody:
		// a webhook for it is never credited until an operator decides.
		const duplicateHash = seed.unmappable.duplicateHash;
		const held = {
			id: await depositTxId("bep20", duplicateHash, 0),
			tx_hash: duplicateHash.toLowerCase(),
			status: "held",
			user_id: null,
			amount: "12.00000000",
		};
		const mapped = await Promise.all(
			expected.map(async ([d, status]) => ({
				id: await depositTxId("bep20", d.txHash, 0),
				tx_hash: d.txHash.toLowerCase(),
				status,
				user_id: d.userId as string | null,
				amount: expect.stringMatching(new RegExp(`^${d.amount.replace(".", "\\.")}`)) as unknown,
			})),
		);
		// By amount: the held 12 comes second.
		expect(deposits).toEqual([mapped[0], held, ...mapped.slice(1)]);
		const credits = await db.query(
			`SELECT d.tx_hash, count(t.*)::int AS credits, bool_and(t.processed_at IS NOT NULL) AS processed
			 FROM deposits d JOIN transactions t ON t.related_id = d.id AND t.related_entity = 'deposit' AND t.tx_type = 'deposit'
			 GROUP BY d.tx_hash`,
		);
		expect(credits).toHaveLength(5);
		expect(credits.every((c) => c.credits === 1 && c.processed === true)).toBe(true);
		const [superseded] = await db.query(
			"SELECT tx_type, metadata->>'superseded_by' AS by, metadata->>'superseded_tx_hash' AS hash, metadata ? 'tx_hash' AS findable FROM transactions WHERE metadata->>'superseded_tx_hash' = $1",
			[seed.pending.txHash],
		);
		expect(superseded).toEqual({
			tx_type: "deposit_superseded",
			by: await depositTxId("bep20", seed.pending.txHash, 0),
			hash: seed.pending.txHash,
			findable: false,
		});
		const outcomes = await db.query(
			"SELECT source, outcome, count(*)::int AS n FROM legacy_deposit_rows GROUP BY 1, 2 ORDER BY 1, 2",
		);
		expect(outcomes).toEqual([
			{ source: "deposit_requests", outcome: "credited", n: 2 },
			{ source: "deposit_requests", outcome: "skipped", n: 2 },
			{ source: "transactions", outcome: "credited", n: 4 },
			{ source: "transactions", outcome: "parked", n: 4 },
			{ source: "transactions", outcome: "pending", n: 1 },
		]);
		expect(run.stdout).toContain("no transaction hash (metadata.tx_hash)");
		expect(run.stdout).toContain('chain "polygon" is not one this system settles');
		expect(await db.query("SELECT count(*)::int AS n FROM wallet_baselines")).toEqual([{ n: 4 }]);
		// Ravi's two smoke-style rows shared his id as related_id: it is kept with each.
		expect(
			await db.query(
				"SELECT original->'metadata'->>'original_related_id' AS kept FROM legacy_deposit_rows WHERE original->>'user_id' = $1 AND source = 'transactions'",
				[seed.players.ravi.id],
			),
		).toEqual([{ kept: seed.players.ravi.id }, { kept: seed.players.ravi.id }]);

		const migrate = await runOps(["migrate", "--url", db.url]);
		expect(migrate.code, migrate.output).toBe(0);
		const counts = async () =>
			db.query(
				"SELECT (SELECT count(*) FROM deposits)::int AS d, (SELECT count(*) FROM transactions)::int AS t, (SELECT count(*) FROM legacy_deposit_rows)::int AS l, (SELECT count(*) FROM wallet_baselines)::int AS b",
			);
		const afterFirst = await counts();
		const again = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(again.code, again.output).toBe(0);
		expect(again.stdout).toContain("already adopted");
		expect(again.stdout).toContain("0 deposit record(s) of the original not seen before");
		expect(await counts()).toEqual(afterFirst);
	}, 120_000); // four runs of the CLI, each a process of its own

	it("is finished by running it again after the backfill was stopped by a lock the original held", async () => {
		const db = await original("adopt_resume");
		// An admin of the original is approving a deposit request: its row is locked, and only the
		// backfill reads it (as it reads every deposit record, locked, so none is credited meanwhile).
		const worker = new pg.Client({ connectionString: db.url });
		await worker.connect();
		await worker.query("BEGIN");
		await worker.query("SELECT id FROM deposit_requests LIMIT 1 FOR UPDATE");
		try {
			const stopped = await runOps(["adopt", "--url", db.url, "--apply"]);
			expect(stopped.code).toBe(1);
			expect(stopped.stdout).toContain("phase 2 done");
			expect(stopped.stderr).toMatch(/stayed locked .* nothing of this phase was changed/);
			expect(await db.query("SELECT count(*)::int AS n FROM deposits")).toEqual([{ n: 0 }]);
		} finally {
			await worker.query("ROLLBACK");
			await worker.end();
		}
		const resumed = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(resumed.code, resumed.output).toBe(0);
		expect(resumed.stdout).toContain("phase 1, baseline: nothing to do");
		expect(resumed.stdout).toContain("phase 2, migrations: none pending");
		expect(resumed.stdout).toContain("deposits written: 5 credited, 1 pending");
	}, 90_000);

	it("hands the deposits it took over and never credited back to the original, for the way back (and maps them again at a later adoption)", async () => {
		const db = await original("adopt_hand_back");
		const [before] = await db.query(
			"SELECT to_jsonb(t) AS row FROM transactions t WHERE metadata->>'tx_hash' = $1",
			[db.seed.pending.txHash],
		);
		expect((await runOps(["adopt", "--url", db.url, "--apply"])).code).toBe(0);
		const pendingId = await depositTxId("bep20", db.seed.pending.txHash, 0);

		const listed = await runOps(["hand-back", "--url", db.url]);
		expect(listed.code, listed.output).toBe(0);
		expect(listed.stdout).toContain(pendingId);
		expect(listed.stdout).toContain("dry run: nothing was changed");
		expect(await db.query("SELECT count(*)::int AS n FROM deposits WHERE id = $1", [pendingId])).toEqual([
			{ n: 1 },
		]);

		const applied = await runOps(["hand-back", "--url", db.url, "--apply"]);
		expect(applied.code, applied.output).toBe(0);
		expect(applied.stdout).toContain("1 deposit(s) handed back");
		// The original's row is its own again, exactly; the deposit is gone here; credited ones stay.
		const [after] = await db.query("SELECT to_jsonb(t) AS row FROM transactions t WHERE id = $1", [
			(before!.row as { id: string }).id,
		]);
		expect(after).toEqual(before);
		// The held deposit of the parked records stays: the original's rows were never changed, and
		// held, it is never credited here.
		expect(
			await db.query("SELECT status::text AS s, count(*)::int AS n FROM deposits GROUP BY 1 ORDER BY 1"),
		).toEqual([
			{ s: "credited", n: 5 },
			{ s: "held", n: 1 },
		]);
		expect((await runOps(["reconcile", "--url", db.url])).code).toBe(0);

		const again = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(again.code, again.output).toBe(0);
		expect(again.stdout).toContain("deposits written: 1 pending");
	}, 150_000); // five runs of the CLI, each a process of its own

	it("gives a new database the migrations, as ops migrate does", async () => {
		const db = await createEmptyDatabase("adopt_new");
		cleanups.push(db.drop);
		const run = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain("a new, empty database");
		expect(run.stdout).toContain("migrations applied");
		expect(await db.query("SELECT to_regclass('public.deposits')::text AS t")).toEqual([{ t: "deposits" }]);
	});

	it("refuses, untouched, a database it does not recognise or cannot bring to the baseline", async () => {
		const strange = await createEmptyDatabase("adopt_strange");
		cleanups.push(strange.drop);
		await strange.query("CREATE TABLE users (id uuid PRIMARY KEY, email text)");
		const unknown = await runOps(["adopt", "--url", strange.url, "--apply"]);
		expect(unknown.code).toBe(3);
		expect(unknown.stdout).toContain("nothing was changed");

		const db = await original("adopt_blocked");
		await db.query("ALTER TABLE admins ALTER COLUMN email TYPE varchar(100)");
		const blocked = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(blocked.code).toBe(3);
		expect(blocked.stderr).toContain(
			"admins.email is character varying(100) here; the baseline has character varying(255)",
		);
		expect(await db.query("SELECT to_regclass('public.deposits') AS t")).toEqual([{ t: null }]);
	});
});
