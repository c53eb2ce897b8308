/**
 * What settling a batch costs Postgres itself, whatever the transport: the server's own
 * accounting of one batch of statements, read from `pg_stat_statements` (planning and
 * execution time, shared buffers touched, WAL written), and the CPU time the connection's
 * backend process used, from /proc when the server runs on this machine.
 *
 * Each variant is a way to write a batch's deposits; the benchmark runs them in alternating
 * short rounds over one connection each. Add a variant to {@link COST_VARIANTS} to compare
 * another way of settling against the same floor.
 *
 * @module
 */
import type pg from "pg";
import { RECORD_DELIVERIES, SETTLE_STATEMENTS, type SettleRow } from "../../queue-consumer/engine";
import { cpuSource, processCpuNs } from "./process-cpu";
import { FLOOR_SQL } from "./settle-fixtures";

interface CostVariant {
	name: string;
	/** One line for the report. */
	what: string;
	/** Writes one batch, `batch` being the batch's rows as the settlement SQL's JSON parameter. */
	run(client: pg.Client, batch: string): Promise<void>;
}

export const COST_VARIANTS: readonly CostVariant[] = [
	{
		name: "ours",
		what: "the consumer's settlement statements (queue-consumer/src/settle-sql.ts) in one transaction",
		async run(client, batch) {
			await client.query("BEGIN");
			for (const statement of SETTLE_STATEMENTS) await client.query(statement, [batch]);
			await client.query("COMMIT");
		},
	},
	{
		name: "deliveries",
		what: "ours and the record of each delivery (deposit_deliveries), as the consumer's transaction writes them",
		async run(client, batch) {
			await client.query("BEGIN");
			await client.query(RECORD_DELIVERIES, [deliveriesOf(batch)]);
			for (const statement of SETTLE_STATEMENTS) await client.query(statement, [batch]);
			await client.query("COMMIT");
		},
	},
	{
		name: "floor",
		what: "the rows a credit writes (deposit, ledger row, wallet) in one statement, no rules, locks or checks",
		async run(client, batch) {
			await client.query(FLOOR_SQL, [batch]);
		},
	},
];

/** The delivery records of a batch's rows, as the consumer builds them (record-deliveries.ts). */
function deliveriesOf(batch: string): string {
	const receivedAt = new Date().toISOString();
	return JSON.stringify(
		(JSON.parse(batch) as SettleRow[]).map((r) => ({
			deposit_id: r.tx_id,
			webhook_id: r.webhook_id,
			message_id: r.message_id,
			attempts: r.attempts,
			status: r.status,
			confirmations: r.confirmations,
			amount: r.amount,
			currency: r.currency,
			source: "cricalgo",
			edge_version: "00000000-0000-4000-8000-000000000001",
			consumer_version: "bench-consumer",
			received_at: receivedAt,
		})),
	);
}

/** What one batch cost the server. Times in ms, buffers in 8 KiB pages, WAL in bytes. */
export interface BatchCost {
	planMs: number;
	execMs: number;
	/** Shared buffers found in the cache and read in: every page the statements looked at. */
	buffersTouched: number;
	buffersDirtied: number;
	walBytes: number;
	walFullPageImages: number;
	/** The backend's CPU time over the whole batch (parse to commit), ms; undefined when /proc cannot see it. */
	backendCpuMs: number | undefined;
}

/** A connection to measure on: the backend process's id, when its CPU is readable here. */
export async function costConnection(client: pg.Client): Promise<{ client: pg.Client; backendPid?: number }> {
	const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
	const pid = rows[0]!.pid;
	try {
		processCpuNs(pid);
		return { client, backendPid: pid };
	} catch {
		return { client };
	}
}

/**
 * Runs `variant` on one batch and returns its cost. The statistics are reset first, so the
 * sums are this batch's; the statements that manage the measurement and the transaction's
 * BEGIN / COMMIT are left out (a single-statement variant has no COMMIT statement to count).
 */
export async function measureBatch(
	connection: { client: pg.Client; backendPid?: number },
	variant: CostVariant,
	batch: string,
): Promise<BatchCost> {
	const { client, backendPid } = connection;
	await client.query("SELECT pg_stat_statements_reset()");
	const source = backendPid === undefined ? undefined : cpuSource(backendPid);
	const cpuBefore = backendPid === undefined ? 0n : processCpuNs(backendPid, source);
	await variant.run(client, batch);
	const cpuNs = backendPid === undefined ? undefined : processCpuNs(backendPid, source) - cpuBefore;
	const { rows } = await client.query<Record<string, string | null>>(
		`SELECT sum(total_plan_time) AS plan, sum(total_exec_time) AS exec,
			sum(shared_blks_hit + shared_blks_read) AS touched, sum(shared_blks_dirtied) AS dirtied,
			sum(wal_bytes) AS wal, sum(wal_fpi) AS fpi
		FROM pg_stat_statements
		WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND query NOT ILIKE '%pg_stat_statements%' AND query NOT IN ('BEGIN', 'COMMIT')`,
	);
	const r = rows[0]!;
	return {
		planMs: Number(r.plan ?? 0),
		execMs: Number(r.exec ?? 0),
		buffersTouched: Number(r.touched ?? 0),
		buffersDirtied: Number(r.dirtied ?? 0),
		walBytes: Number(r.wal ?? 0),
		walFullPageImages: Number(r.fpi ?? 0),
		backendCpuMs: cpuNs === undefined ? undefined : Number(cpuNs) / 1e6,
	};
}

/**
 * Makes sure `pg_stat_statements` can be read in the connected database.
 *
 * @throws with what to do when the server does not preload it.
 */
export async function requireStatementStatistics(client: pg.Client, server: string): Promise<void> {
	try {
		await client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
		await client.query("SELECT pg_stat_statements_reset()");
		await client.query("SELECT count(*) FROM pg_stat_statements");
	} catch (error) {
		throw new Error(
			`pg_stat_statements is not usable on ${server} (${(error as Error).message}): the per-deposit cost needs it in shared_preload_libraries and a superuser to reset it. Leave BENCH_DATABASE_URL unset to let the benchmark start its own scratch cluster, or preload the extension there.`,
		);
	}
}
