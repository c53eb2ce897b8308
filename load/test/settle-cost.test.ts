import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migratePostgres } from "../../ops/migrate";
import { type ScratchPostgres, startScratchPostgres } from "../bench/scratch-postgres";
import {
	COST_VARIANTS,
	costConnection,
	measureBatch,
	requireStatementStatistics,
} from "../bench/settle-cost";
import { settleRows, syntheticDeposits } from "../bench/settle-fixtures";

// The scratch cluster needs Postgres's server programs on this machine (initdb, pg_ctl).
describe("settlement cost per batch, on a scratch cluster with pg_stat_statements", () => {
	let scratch: ScratchPostgres;
	let client: pg.Client;
	let users: string[];

	beforeAll(async () => {
		scratch = await startScratchPostgres();
		await migratePostgres(scratch.url);
		client = new pg.Client({ connectionString: scratch.url });
		await client.connect();
		const { rows } = await client.query<{ id: string }>(
			`WITH u AS (INSERT INTO users (username) SELECT 'cost_' || g FROM generate_series(1, 20) g RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id AS id`,
		);
		users = rows.map((r) => r.id);
	}, 120_000);

	afterAll(async () => {
		await client?.end();
		scratch?.stop();
	});

	it("measures what each variant's batch cost the server and its backend, and each credits every deposit once", async () => {
		await requireStatementStatistics(client, "the scratch cluster");
		const connection = await costConnection(client);
		expect(connection.backendPid).toBeGreaterThan(0);
		for (const variant of COST_VARIANTS) {
			const deposits = await syntheticDeposits(20, users);
			const cost = await measureBatch(connection, variant, JSON.stringify(settleRows(deposits)));
			expect(cost.execMs, variant.name).toBeGreaterThan(0);
			expect(cost.planMs, variant.name).toBeGreaterThan(0);
			expect(cost.buffersTouched, variant.name).toBeGreaterThan(20);
			// Every deposit writes a deposit row and a ledger row: WAL of at least 100 bytes each.
			expect(cost.walBytes, variant.name).toBeGreaterThan(20 * 100);
			expect(cost.backendCpuMs, variant.name).toBeGreaterThan(0);
			const { rows } = await client.query<{ credited: string; ledger: string }>(
				`SELECT count(*) FILTER (WHERE d.status = 'credited') AS credited,
					(SELECT count(*) FROM transactions t WHERE t.related_id = ANY($1::uuid[])) AS ledger
				FROM deposits d WHERE d.id = ANY($1::uuid[])`,
				[deposits.map((d) => d.tx_id)],
			);
			expect(rows[0], variant.name).toEqual({ credited: "20", ledger: "20" });
		}
	});

	it("refuses, saying what to do, when the statistics cannot be reset (a role that is not a superuser)", async () => {
		await client.query("CREATE ROLE bench_reader LOGIN");
		const url = new URL(scratch.url);
		url.username = "bench_reader";
		const reader = new pg.Client({ connectionString: url.toString() });
		await reader.connect();
		try {
			await expect(requireStatementStatistics(reader, "db.example")).rejects.toThrow(
				/pg_stat_statements is not usable on db\.example \(permission denied.*a superuser to reset it.*Leave BENCH_DATABASE_URL unset/,
			);
		} finally {
			await reader.end();
		}
	});
});
