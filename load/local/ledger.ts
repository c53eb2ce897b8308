/**
 * The local load run's view of the ledger: players to credit, how many deposits are settled,
 * and the checks that every deposit was credited exactly once with its exact amount. All SQL
 * goes through the real Neon driver, against the local Neon endpoint of the stack (or one
 * started here in front of a given Postgres).
 *
 * @module
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { type NeonHttpServer, startNeonHttpServer } from "../../ops/local/neon-http-server";
import { postgresBackend } from "../../ops/local/postgres-backend";

/** Runs one statement, rows as objects. */
export type QueryRows = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export interface LedgerConnection {
	query: QueryRows;
	close(): Promise<void>;
}

/**
 * A connection through the Neon driver. `neonEndpoint` is where the driver sends SQL; without
 * it, a local endpoint is started in front of the Postgres at `databaseUrl`.
 */
export async function connectLedger(databaseUrl: string, neonEndpoint?: string): Promise<LedgerConnection> {
	let server: NeonHttpServer | undefined;
	let backend: ReturnType<typeof postgresBackend> | undefined;
	if (!neonEndpoint) {
		backend = postgresBackend(databaseUrl, { poolSize: 4 });
		server = await startNeonHttpServer(backend);
	}
	neonConfig.fetchEndpoint = neonEndpoint ?? server?.endpoint ?? "";
	const sql = neon(databaseUrl);
	return {
		query: (text, params) => sql.query(text, params ?? []) as Promise<Record<string, unknown>[]>,
		async close() {
			await server?.close();
			await backend?.close();
		},
	};
}

/** Creates `count` players with empty wallets in one statement; returns their ids. */
export async function createPlayers(query: QueryRows, runId: string, count: number): Promise<string[]> {
	const rows = await query(
		`WITH u AS (
			INSERT INTO users (username)
			SELECT 'load_' || $1 || '_' || n FROM generate_series(1, $2::int) AS n
			RETURNING id
		), w AS (
			INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id
		)
		SELECT user_id::text AS id FROM w ORDER BY user_id`,
		[runId, count],
	);
	return rows.map((r) => String(r.id));
}

/** How many of `txIds` are credited, and how many exist at all. */
export async function settledCount(query: QueryRows, txIds: string[]) {
	const [row] = await query(
		`SELECT count(*)::int AS seen, count(*) FILTER (WHERE status = 'credited')::int AS credited
		 FROM deposits WHERE id = ANY($1::uuid[])`,
		[`{${txIds.join(",")}}`],
	);
	return { seen: Number(row?.seen ?? 0), credited: Number(row?.credited ?? 0) };
}

/** When each credited deposit of `txIds` was credited, as epoch milliseconds. */
export async function creditTimes(query: QueryRows, txIds: string[]): Promise<Map<string, number>> {
	const rows = await query(
		`SELECT id::text AS id, (extract(epoch FROM credited_at) * 1000)::float8 AS at
		 FROM deposits WHERE id = ANY($1::uuid[]) AND credited_at IS NOT NULL`,
		[`{${txIds.join(",")}}`],
	);
	return new Map(rows.map((r) => [String(r.id), Number(r.at)]));
}

export interface ExactlyOnce {
	deposits: number;
	credited: number;
	/** Ledger credit rows for these deposits (must equal `deposits`). */
	creditRows: number;
	/** Deposits with more than one credit row (must be 0). */
	creditedTwice: number;
	/** Sum the ledger credited, and what the run sent, exact decimals. */
	creditedTotal: string;
	expectedTotal: string;
	/** Sum of the run's players' wallets (must equal `expectedTotal`). */
	walletTotal: string;
	ok: boolean;
}

/**
 * Every deposit of the run credited once, with its exact amount, to its player: compared in
 * SQL as NUMERIC, never as JavaScript numbers.
 */
export async function checkExactlyOnce(
	query: QueryRows,
	deposits: { txId: string; amount: string }[],
	playerIds: string[],
): Promise<ExactlyOnce> {
	const [row] = await query(
		`WITH planned AS (
			SELECT * FROM unnest($1::uuid[], $2::numeric[]) AS p(id, amount)
		), credits AS (
			SELECT t.related_id, count(*) AS n, sum(t.amount) AS amount
			FROM transactions t JOIN planned p ON p.id = t.related_id
			WHERE t.tx_type = 'deposit' AND t.related_entity = 'deposit'
			GROUP BY t.related_id
		)
		SELECT
			(SELECT count(*) FROM planned)::int AS deposits,
			(SELECT count(*) FROM deposits d JOIN planned p ON p.id = d.id WHERE d.status = 'credited')::int AS credited,
			(SELECT coalesce(sum(n), 0) FROM credits)::int AS credit_rows,
			(SELECT count(*) FROM credits WHERE n > 1)::int AS credited_twice,
			(SELECT coalesce(sum(amount), 0) FROM credits)::numeric(30, 8)::text AS credited_total,
			(SELECT coalesce(sum(amount), 0) FROM planned)::numeric(30, 8)::text AS expected_total,
			(SELECT coalesce(sum(deposit_balance), 0) FROM wallets WHERE user_id = ANY($3::uuid[]))::numeric(30, 8)::text
				AS wallet_total,
			(SELECT coalesce(sum(amount), 0) FROM credits) = (SELECT coalesce(sum(amount), 0) FROM planned)
				AND (SELECT coalesce(sum(deposit_balance), 0) FROM wallets WHERE user_id = ANY($3::uuid[]))
					= (SELECT coalesce(sum(amount), 0) FROM planned) AS totals_equal`,
		[
			`{${deposits.map((d) => d.txId).join(",")}}`,
			`{${deposits.map((d) => d.amount).join(",")}}`,
			`{${playerIds.join(",")}}`,
		],
	);
	const result = {
		deposits: Number(row?.deposits ?? 0),
		credited: Number(row?.credited ?? 0),
		creditRows: Number(row?.credit_rows ?? 0),
		creditedTwice: Number(row?.credited_twice ?? 0),
		creditedTotal: String(row?.credited_total ?? "0"),
		expectedTotal: String(row?.expected_total ?? "0"),
		walletTotal: String(row?.wallet_total ?? "0"),
	};
	return {
		...result,
		ok:
			result.deposits === deposits.length &&
			result.credited === result.deposits &&
			result.creditRows === result.deposits &&
			result.creditedTwice === 0 &&
			row?.totals_equal === true,
	};
}

/** Bytes the deposit and ledger tables take (with indexes and TOAST) per deposit row. */
export async function storagePerDeposit(query: QueryRows): Promise<number> {
	const [row] = await query(
		`SELECT (pg_total_relation_size('deposits') + pg_total_relation_size('transactions'))::float8
			/ greatest((SELECT count(*) FROM deposits), 1) AS bytes`,
	);
	return Number(row?.bytes ?? 0);
}
