/**
 * `npm run bench:settle`: how fast the consumer settles deposits, against raw SQL doing the
 * same work, in one run on one machine.
 *
 * - ours: the consumer's own settlement code (`settleDepositBatch` from
 *   queue-consumer/src/settle.ts: contract validation, tx_id check, the batch transaction,
 *   per-message ack, metrics) imported into Node, with `@neondatabase/serverless` speaking
 *   Neon's HTTP protocol to the local endpoint (ops/local/neon-http-server.ts → pg → Postgres).
 * - raw: the same statements (`SETTLE_STATEMENTS`) with the same JSON parameter, in BEGIN … COMMIT over one
 *   `pg` connection: no validation, no HTTP, no driver.
 * - Node CPU (batch 100 only): what this process (ours' client code and the local endpoint
 *   standing in for Neon's) spends per batch, from `process.cpuUsage()`.
 * - WAL (batch 100 only): bytes of write-ahead log per deposit during the raw runs.
 * - floor (batch 100 only, for scale): the rows a credit writes (deposit, ledger row, wallet),
 *   in one statement over `pg`, with no rules, no locks and no checks, on one connection and on
 *   BENCH_CONCURRENCY connections: roughly what this machine's Postgres can do at all.
 *
 * Every synthetic deposit is new, attributed to one of 2,000 users and past its threshold, so
 * each one takes the full path: insert (already credited), credit, ledger row, wallet. The
 * tables are analysed after seeding, as autovacuum keeps a live database analysed. Batch sizes 1, 10
 * and 100; ours runs one batch at a time (as raw does: the closing `ratio:` line compares
 * these) and also BENCH_CONCURRENCY batches at once (as the queue runs several consumer
 * invocations). Each figure is the median of three runs, ours and raw interleaved. The ledger
 * invariants are checked at the end, through `pg` (the checker is driver-agnostic).
 *
 * BENCH_SIZES (e.g. `100` or `10,100`) picks the batch sizes to run; the default runs all three.
 *
 * Uses a scratch database on BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
 * created and dropped here.
 *
 * @module
 */
import { loadavg } from "node:os";
import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { startNeonHttpServer } from "../../ops/local/neon-http-server";
import { postgresBackend } from "../../ops/local/postgres-backend";
import { migratePostgres, redact } from "../../ops/migrate";
import { parseConsumerConfig } from "../../queue-consumer/src/config";
import type { QueueBatch, QueueMessage } from "../../queue-consumer/src/queue-types";
import { settleRow } from "../../queue-consumer/src/read-message";
import { settleDepositBatch } from "../../queue-consumer/src/settle";
import { SETTLE_STATEMENTS, type SettleRow } from "../../queue-consumer/src/settle-sql";
import type { Sql } from "../../queue-consumer/src/settle-transaction";
import type { DepositMessage } from "../../schema/queue-message";
import { depositTxId } from "../../schema/tx-id";
import { checkLedgerInvariants, formatLedgerReport } from "../../test/support/ledger-invariants";

const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const USERS = 2_000;
const ALL_SIZES = [
	{ size: 1, deposits: 600 },
	{ size: 10, deposits: 3_000 },
	{ size: 100, deposits: 15_000 },
];
/** BENCH_SIZES=100 measures batches of 100 only (the `ratio:` line needs 100). */
const SIZES = process.env.BENCH_SIZES
	? ALL_SIZES.filter(({ size }) => process.env.BENCH_SIZES!.split(",").map(Number).includes(size))
	: ALL_SIZES;
const REPEATS = 3;
const config = parseConsumerConfig({ CONFIRMATIONS: { bep20: 12, erc20: 12, trc20: 19 } });

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

let serial = 0;
async function syntheticDeposits(count: number, users: string[]): Promise<DepositMessage[]> {
	const now = new Date().toISOString();
	return Promise.all(
		Array.from({ length: count }, async () => {
			const n = ++serial;
			const txHash = `0x${n.toString(16).padStart(64, "0")}`;
			return {
				v: 1 as const,
				tx_id: await depositTxId("bep20", txHash, 0),
				chain: "bep20" as const,
				tx_hash: txHash,
				log_index: 0,
				amount: `${(n % 997) + 1}.${String(n % 100_000_000).padStart(8, "0")}`,
				currency: "USDT",
				confirmations: 15,
				status: "confirmed" as const,
				to_address: "0x2222222222222222222222222222222222222222",
				user_id: users[n % users.length]!,
				block_number: String(40_000_000 + n),
				metadata: { source: "bench" },
				webhook_id: `bench_${n}`,
				received_at: now,
			};
		}),
	);
}

function chunk<T>(items: T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

/** A queue batch as the runtime would hand it over; counts acks and retries. */
function queueBatch(bodies: DepositMessage[], tally: { acked: number; retried: number }): QueueBatch {
	const messages: QueueMessage[] = bodies.map((body, i) => ({
		id: `bench-${body.webhook_id}-${i}`,
		timestamp: new Date(),
		body,
		attempts: 1,
		ack: () => {
			tally.acked++;
		},
		retry: () => {
			tally.retried++;
		},
	}));
	return { queue: "deposits", messages };
}

/** Runs `work` over the batches, `concurrency` at a time; returns deposits per second. */
async function timed<T>(
	batches: T[][],
	concurrency: number,
	work: (batch: T[], worker: number) => Promise<void>,
): Promise<number> {
	const started = performance.now();
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async (_, worker) => {
			while (next < batches.length) await work(batches[next++]!, worker);
		}),
	);
	const seconds = (performance.now() - started) / 1000;
	return batches.reduce((n, b) => n + b.length, 0) / seconds;
}

/** The rows a batch's credits write, with no rules, no locks and no checks: the `floor`. */
const FLOOR_SQL = `
WITH m AS (
	SELECT r.* FROM jsonb_to_recordset($1::jsonb) AS r(tx_id uuid, chain text, tx_hash text,
		log_index int, amount numeric, currency text, confirmations int, user_id uuid, to_address text,
		block_number bigint, webhook_id text, metadata jsonb, threshold int)
),
d AS (
	INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
		confirmations, required_confirmations, block_number, webhook_id, metadata, credited_at)
	SELECT tx_id, chain, tx_hash, log_index, amount, currency, to_address, user_id, 'credited',
		confirmations, threshold, block_number, webhook_id, metadata, now()
	FROM m
	RETURNING id, user_id, amount, currency, chain, tx_hash, log_index, confirmations
),
ledger AS (
	INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata)
	SELECT user_id, 'deposit', amount, currency, 'deposit', id, jsonb_build_object('chain', chain,
		'tx_hash', tx_hash, 'log_index', log_index, 'confirmations', confirmations)
	FROM d
)
UPDATE wallets w SET deposit_balance = w.deposit_balance + x.delta, updated_at = now()
FROM (SELECT user_id, sum(amount) AS delta FROM d GROUP BY user_id) x
WHERE w.user_id = x.user_id`;

/** A batch as the settlement SQL reads it (the consumer's own mapping, without its checks). */
function settleRows(bodies: DepositMessage[]): SettleRow[] {
	return bodies.map((m, i) => ({
		i,
		message_id: `raw-${m.webhook_id}`,
		attempts: 1,
		...settleRow(m, config),
	}));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(7);

async function main() {
	const database = `cricalgo_bench_settle_${process.pid}`;
	const url = withDatabase(BASE_URL, database);
	console.log(`settle benchmark on ${redact(BASE_URL)} (scratch database ${database})`);
	console.log(
		`load average before: ${loadavg()
			.map((l) => l.toFixed(2))
			.join(" ")} (other work on the machine skews figures)`,
	);
	const admin = new pg.Client({ connectionString: BASE_URL });
	try {
		await admin.connect();
	} catch (error) {
		throw new Error(
			`cannot reach Postgres at ${redact(BASE_URL)}: ${(error as Error).message}. Start it (pg_ctlcluster 15 main start) or set BENCH_DATABASE_URL.`,
		);
	}
	await admin.query(`CREATE DATABASE "${database}"`);
	const backend = postgresBackend(BASE_URL, { poolSize: Math.max(4, CONCURRENCY * 2) });
	const server = await startNeonHttpServer(backend);
	const raw = new pg.Client({ connectionString: url });
	const floorClients = [raw];
	try {
		process.stdout.write("migrating and seeding users … ");
		await migratePostgres(url);
		await raw.connect();
		const { rows } = await raw.query<{ id: string }>(
			`WITH u AS (INSERT INTO users (username) SELECT 'bench_' || g FROM generate_series(1, ${USERS}) g RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id AS id`,
		);
		const users = rows.map((r) => r.id);
		await raw.query("ANALYZE");
		console.log("done");

		neonConfig.fetchEndpoint = server.endpoint;
		const sql = neon(url) as Sql;
		const context = { sql, config, metrics: { writeDataPoint() {} }, versionId: "bench" };
		console.log(
			"ours: consumer code → Neon HTTP protocol → local endpoint → Postgres; raw: same SQL over one pg connection",
		);

		const ours = async (deposits: DepositMessage[][], concurrency: number) => {
			const tally = { acked: 0, retried: 0 };
			const rate = await timed(deposits, concurrency, async (bodies) => {
				const outcomes = await settleDepositBatch(queueBatch(bodies, tally), context);
				for (const outcome of outcomes.values()) {
					if (outcome !== "credited") throw new Error(`benchmark deposit ended "${outcome}", not credited`);
				}
			});
			if (tally.retried) throw new Error(`${tally.retried} messages were retried during the benchmark`);
			return rate;
		};
		const rawSql = async (deposits: DepositMessage[][]) =>
			timed(deposits, 1, async (bodies) => {
				const param = JSON.stringify(settleRows(bodies));
				await raw.query("BEGIN");
				for (const statement of SETTLE_STATEMENTS) {
					await raw.query(statement, [param]);
				}
				await raw.query("COMMIT");
			});
		const floor = async (deposits: DepositMessage[][], concurrency: number) => {
			while (floorClients.length < concurrency) {
				const client = new pg.Client({ connectionString: url });
				await client.connect();
				floorClients.push(client);
			}
			// Batches run at the same time hold disjoint users (consecutive runs of 100 of 2,000):
			// the unordered wallet updates cannot deadlock.
			return timed(deposits, concurrency, async (bodies, worker) => {
				await floorClients[worker]!.query(FLOOR_SQL, [JSON.stringify(settleRows(bodies))]);
			});
		};

		// What the raw runs write to the WAL (nothing else writes to this server meanwhile, as
		// far as the benchmark knows): a measure of write amplification, whatever the disk.
		const walPosition = async () =>
			(await raw.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
		const walBytesSince = async (lsn: string) =>
			Number(
				(
					await raw.query<{ bytes: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS bytes", [
						lsn,
					])
				).rows[0]!.bytes,
			);

		// Warm both paths (connections, plans, caches) before measuring.
		await ours(chunk(await syntheticDeposits(500, users), 100), 1);
		await rawSql(chunk(await syntheticDeposits(500, users), 100));

		let ratio = 0;
		for (const { size, deposits } of SIZES) {
			const results = {
				ours: [] as number[],
				oursConcurrent: [] as number[],
				raw: [] as number[],
				floor: [] as number[],
				floorConcurrent: [] as number[],
				walPerDeposit: [] as number[],
				nodeCpuMsPerBatch: [] as number[],
			};
			for (let r = 0; r < REPEATS; r++) {
				const walBefore = await walPosition();
				results.raw.push(await rawSql(chunk(await syntheticDeposits(deposits, users), size)));
				results.walPerDeposit.push((await walBytesSince(walBefore)) / deposits);
				const oursBatches = chunk(await syntheticDeposits(deposits, users), size);
				const cpuBefore = process.cpuUsage();
				results.ours.push(await ours(oursBatches, 1));
				const cpu = process.cpuUsage(cpuBefore);
				results.nodeCpuMsPerBatch.push((cpu.user + cpu.system) / 1000 / oursBatches.length);
				results.oursConcurrent.push(
					await ours(chunk(await syntheticDeposits(deposits, users), size), CONCURRENCY),
				);
				if (size === 100) {
					results.floor.push(await floor(chunk(await syntheticDeposits(deposits, users), size), 1));
					results.floorConcurrent.push(
						await floor(chunk(await syntheticDeposits(deposits, users), size), CONCURRENCY),
					);
				}
				process.stdout.write(`  batch ${size}: run ${r + 1}/${REPEATS} done\n`);
			}
			const o = median(results.ours);
			const oc = median(results.oursConcurrent);
			const w = median(results.raw);
			console.log(
				`batch ${String(size).padStart(3)}: ours ${fmt(o)} deposits/s (1 batch at a time), ${fmt(oc)} deposits/s (${CONCURRENCY} at a time); raw ${fmt(w)} deposits/s; ours/raw ${(o / w).toFixed(2)} and ${(oc / w).toFixed(2)}`,
			);
			if (size === 100) {
				ratio = o / w;
				const nodeCpu = median(results.nodeCpuMsPerBatch);
				console.log(
					`Node CPU:  ${nodeCpu.toFixed(1)} ms per batch for ours' client and local endpoint together (this process; on its own it would cap ours near ${fmt((size * 1000) / nodeCpu)} deposits/s per core)`,
				);
				console.log(
					`WAL:       ${fmt(median(results.walPerDeposit))} bytes per deposit (raw, batch ${size})`,
				);
				console.log(
					`floor:     the writes alone ${fmt(median(results.floor))} deposits/s (1 connection), ${fmt(median(results.floorConcurrent))} deposits/s (${CONCURRENCY} connections): this machine's Postgres, for scale`,
				);
			}
		}

		const report = await checkLedgerInvariants(async (q, p) => (await raw.query(q, p)).rows);
		console.log(formatLedgerReport(report));
		console.log(
			`load average after: ${loadavg()
				.map((l) => l.toFixed(2))
				.join(" ")}`,
		);
		console.log(`ratio: ${ratio.toFixed(2)}`);
		if (!report.ok) console.error("the ledger invariants do not hold after the benchmark");
		if (!report.ok) process.exitCode = 1;
	} finally {
		await Promise.all(floorClients.map((c) => c.end().catch(() => {})));
		await server.close();
		await backend.close();
		await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
		await admin.end();
	}
}

main().catch((error: unknown) => {
	console.error(`bench:settle failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
