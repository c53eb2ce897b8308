/**
 * The committed migrations: they apply to an empty database, again without effect, and the
 * ledger's guarantees they create hold (no negative balance, one credit per deposit).
 */
import { spawnSync } from "node:child_process";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { migratePglite, migratePostgres } from "../migrate";

type Query = (text: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

async function checkLedgerGuarantees(query: Query) {
	const user = await query(
		"WITH u AS (INSERT INTO users (username) VALUES ('guarantee') RETURNING id) INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id",
	);
	const userId = user.rows[0]?.user_id;
	await expect(
		query("UPDATE wallets SET deposit_balance = -0.00000001 WHERE user_id = $1", [userId]),
	).rejects.toThrow(/chk_deposit_nonneg/);
	const deposit = "6f1c1c0e-6a8f-5d0e-9f3a-0d4c1f2b3a4e";
	await query(
		"INSERT INTO deposits (id, chain, tx_hash, amount, currency, required_confirmations) VALUES ($1, 'bep20', '0xab', '1', 'USDT', 12)",
		[deposit],
	);
	const credit =
		"INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id) VALUES ($1, 'deposit', '1', 'deposit', $2)";
	await query(credit, [userId, deposit]);
	await expect(query(credit, [userId, deposit])).rejects.toThrow(/uq_transactions_deposit_credit/);
}

describe("migrations on embedded Postgres", () => {
	it("apply, re-apply as a no-op, and enforce the ledger's guarantees", async () => {
		const db = await PGlite.create();
		try {
			await migratePglite(db);
			await migratePglite(db);
			const { rows } = await db.query<{ n: number }>(
				"SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations",
			);
			expect(rows[0]?.n).toBeGreaterThan(0);
			await checkLedgerGuarantees((text, params) => db.query(text, params));
		} finally {
			await db.close();
		}
	});
});

describe.runIf(process.env.TEST_DATABASE_URL)("migrations on Postgres", () => {
	it("apply through `npm run db:migrate`'s command, twice, and enforce the ledger's guarantees", async () => {
		const base = new URL(process.env.TEST_DATABASE_URL as string);
		const name = `cricalgo_test_migrate_${process.pid}`;
		const admin = new pg.Client({ connectionString: base.toString() });
		await admin.connect();
		await admin.query(`CREATE DATABASE ${name}`);
		const url = new URL(base);
		url.pathname = `/${name}`;
		try {
			for (let i = 0; i < 2; i++) {
				const run = spawnSync(
					process.execPath,
					["--import", "tsx", "ops/cli.ts", "migrate", "--url", url.toString()],
					{
						encoding: "utf8",
					},
				);
				expect(run.stderr).toBe("");
				expect(run.status).toBe(0);
				expect(run.stdout).toContain("migrations applied");
			}
			const client = new pg.Client({ connectionString: url.toString() });
			await client.connect();
			try {
				await checkLedgerGuarantees((text, params) => client.query(text, params));
			} finally {
				await client.end();
			}
		} finally {
			await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await admin.end();
		}
	});
});

describe("migrate command", () => {
	it("says what failed and how to fix it when the database cannot be reached", async () => {
		await expect(migratePostgres("postgres://postgres@127.0.0.1:1/none")).rejects.toThrow(
			/could not connect to postgres:\/\/postgres@127\.0\.0\.1:1\/none: .*Check DATABASE_URL/,
		);
	});

	it("refuses to run without a database and says how to give one", () => {
		const env = { ...process.env };
		delete env.DATABASE_URL;
		const run = spawnSync(process.execPath, ["--import", "tsx", "ops/cli.ts", "migrate"], {
			encoding: "utf8",
			env,
		});
		expect(run.status).toBe(1);
		expect(run.stderr).toMatch(/no database given: set DATABASE_URL or pass --url/);
	});
});
