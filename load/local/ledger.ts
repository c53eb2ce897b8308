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
	/** Deposits the run planned, and those whose crediting webhook was answered 2xx. */
	deposits: number;
	accepted: number;
	/** Planned deposits credited (a deposit whose 202 the client missed may be credited too). */
	credited: number;
	/** Accepted deposits not credited: an accepted deposit lost (must be 0). */
	acceptedNotCredited: number;
	/** Ledger credit rows for the planned deposits (must equal `credited`). */
	creditRows: number;
	/** Deposits with more than one credit row (must be 0). */
	creditedTwice: number;
	/** Credited deposits whose ledger amount is not the amount sent (must be 0). */
	wrongAmount: number;
	/** What the ledger credited, and the players' wallets hold: equal, exact decimals. */
	creditedTotal: string;
	/** The sum of the accepted deposits' amounts as sent. */
	acceptedTotal: string;
	walletTotal: string;
	ok: boolean;
}

/**
 * Every accepted deposit credited, none twice, each with its exact amount, and the players'
 * wallets holding exactly the credits: compared in SQL as NUMERIC, never as JavaScript numbers.
 */
export async function checkExactlyOnce(
	query: QueryRows,
	deposits: { txId: string; amount: string; accepted: boolean }[],
	playerIds: string[],
): Promise<ExactlyOnce> {
	const [row] = await query(
		`WITH planned AS (
			SELECT * FROM unnest($1::uuid[], $2::numeric[], $3::boolean[]) AS p(id, amount, accepted)
		), credits AS (
			SELECT t.related_id, count(*) AS n, sum(t.amount) AS amount
			FROM transactions t JOIN planned p ON p.id = t.related_id
			WHERE t.tx_type = 'deposit' AND t.related_entity = 'deposit'
			GROUP BY t.related_id
		), state AS (
			SELECT p.*, d.status = 'credited' AS credited, c.n, c.amount AS credited_amount
			FROM planned p LEFT JOIN deposits d ON d.id = p.id LEFT JOIN credits c ON c.related_id = p.id
		), wallet AS (
			SELECT coalesce(sum(deposit_balance), 0) AS total FROM wallets WHERE user_id = ANY($4::uuid[])
		)
		SELECT count(*)::int AS deposits,
			count(*) FILTER (WHERE accepted)::int AS accepted,
			count(*) FILTER (WHERE credited)::int AS credited,
			count(*) FILTER (WHERE accepted AND credited IS NOT TRUE)::int AS accepted_not_credited,
			coalesce(sum(n), 0)::int AS credit_rows,
			count(*) FILTER (WHERE n > 1)::int AS credited_twice,
			count(*) FILTER (WHERE credited_amount IS DISTINCT FROM amount AND n IS NOT NULL)::int AS wrong_amount,
			coalesce(sum(credited_amount), 0)::numeric(30, 8)::text AS credited_total,
			coalesce(sum(amount) FILTER (WHERE accepted), 0)::numeric(30, 8)::text AS accepted_total,
			(SELECT total FROM wallet)::numeric(30, 8)::text AS wallet_total,
			coalesce(sum(credited_amount), 0) = (SELECT total FROM wallet) AS totals_equal
		FROM state`,
		[
			`{${deposits.map((d) => d.txId).join(",")}}`,
			`{${deposits.map((d) => d.amount).join(",")}}`,
			`{${deposits.map((d) => d.accepted).join(",")}}`,
			`{${playerIds.join(",")}}`,
		],
	);
	const n = (key: string) => Number(row?.[key] ?? 0);
	const result = {
		deposits: n("deposits"),
		accepted: n("accepted"),
		credited: n("credited"),
		acceptedNotCredited: n("accepted_not_credited"),
		creditRows: n("credit_rows"),
		creditedTwice: n("credited_twice"),
		wrongAmount: n("wrong_amount"),
		creditedTotal: String(row?.credited_total ?? "0"),
		acceptedTotal: String(row?.accepted_total ?? "0"),
		walletTotal: String(row?.wallet_total ?? "0"),
	};
	return {
		...result,
		ok:
			result.deposits === deposits.length &&
			result.acceptedNotCredited === 0 &&
			result.creditRows === result.credited &&
			result.creditedTwice === 0 &&
			result.wrongAmount === 0 &&
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
