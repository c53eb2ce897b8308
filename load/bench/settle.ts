/**
 * `npm run bench:settle`: what settling deposits costs, in one run on one machine.
 *
 * Throughput (deposits per second, for each batch size; this moves with the machine's load):
 * - ours: the consumer's own settlement code (`settleDepositBatch` from
 *   queue-consumer/src/settle.ts: contract validation, tx_id check, the batch transaction,
 *   per-message ack, metrics) imported into Node, with `@neondatabase/serverless` speaking
 *   Neon's HTTP protocol to the local endpoint (ops/local/neon-http-server.ts → pg → Postgres),
 *   one batch at a time and BENCH_CONCURRENCY batches at once;
 * - raw: the same statements (`SETTLE_STATEMENTS`) with the same JSON parameter, in BEGIN …
 *   COMMIT over one `pg` connection: no validation, no HTTP, no driver;
 * - Node CPU (batch 100): what this process (ours' client code and the local endpoint standing
 *   in for Neon's) spends per batch, from `process.cpuUsage()`;
 * - floor (batch 100, for scale): the rows a credit writes, in one statement, on one and on
 *   BENCH_CONCURRENCY connections.
 *
 * Cost (per deposit, batches of 100; this barely moves with the machine's load): many short
 * alternating rounds of one batch of each variant of settle-cost.ts (ours' statements, and the
 * floor: the rows a credit writes with no rules), each measured by the server itself
 * (`pg_stat_statements`: planning and execution time, buffers, WAL) and by the OS (the
 * backend's CPU time). From them: how many deposits per second one Postgres core sustains, and
 * the Neon compute that a queue's 5,000 messages per second needs. The closing `ratio:` line is
 * the median over rounds of floor / ours backend CPU per deposit (the statements' time when
 * the server's backend is not on this machine); the throughput ratio (ours / raw, batch 100)
 * is printed above it.
 *
 * The record of deliveries (batch 100; BENCH_DELIVERY_ROUNDS alternating rounds, default 30):
 * deposits/s and WAL bytes per deposit with and without the `deposit_deliveries` statement in
 * the consumer's round trip (deliveries-cost.ts), and the share of throughput it costs against
 * its budget of 15 %; printed in the closing `deliveries:` lines, with the server's own cost of
 * the record (the cost part's `deliveries` variant against `ours`).
 *
 * Every synthetic deposit is new, attributed to one of 2,000 users and past its threshold, so
 * each one takes the full path (settle-fixtures.ts). The tables are analysed after seeding, as
 * autovacuum keeps a live database analysed. The ledger invariants are checked at the end.
 *
 * By default everything runs in a scratch Postgres cluster started here (scratch-postgres.ts:
 * initdb on a free port, pg_stat_statements preloaded, removed afterwards), so no shared
 * server is touched and nothing else writes to it. BENCH_DATABASE_URL names another server
 * instead (it must preload pg_stat_statements); a scratch database is created and dropped there.
 * BENCH_SIZES (e.g. `100` or `10,100`) picks the batch sizes of the throughput part (default
 * 1, 10 and 100); BENCH_COST_ROUNDS the cost rounds (default 150); BENCH_CONCURRENCY (default 4).
 *
 * @module
 */
import { cpus } from "node:os";
import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { startNeonHttpServer } from "../../ops/local/neon-http-server";
import { postgresBackend } from "../../ops/local/postgres-backend";
import { migratePostgres, redact } from "../../ops/migrate";
import { SETTLE_STATEMENTS, type Sql, settleDepositBatch } from "../../queue-consumer/engine";
import { checkLedgerInvariants, formatLedgerReport } from "../../schema/ledger-invariants";
import type { DepositMessage } from "../../schema/queue-message";
import { DELIVERIES_BUDGET, lostShare, measureDeliveriesCost } from "./deliveries-cost";
import { describeMachineLoad, isBusy, machineLoad } from "./machine-load";
import { describeSpread, median, spread } from "./round-stats";
import { type ScratchPostgres, startScratchPostgres } from "./scratch-postgres";
import {
	type BatchCost,
	COST_VARIANTS,
	costConnection,
	measureBatch,
	requireStatementStatistics,
} from "./settle-cost";
import { chunk, config, FLOOR_SQL, queueBatch, settleRows, syntheticDeposits } from "./settle-fixtures";

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const COST_ROUNDS = Number(process.env.BENCH_COST_ROUNDS ?? 150);
const DELIVERY_ROUNDS = Number(process.env.BENCH_DELIVERY_ROUNDS ?? 30);
const COST_BATCH = 100;
const COST_WARM_UP_ROUNDS = 3;
const USERS = 2_000;
const ALL_SIZES = [
	{ size: 1, deposits: 150 },
	{ size: 10, deposits: 1_000 },
	{ size: 100, deposits: 6_000 },
];
/** BENCH_SIZES=100 measures batches of 100 only (the throughput ratio needs 100). */
const SIZES = process.env.BENCH_SIZES
	? ALL_SIZES.filter(({ size }) => process.env.BENCH_SIZES!.split(",").map(Number).includes(size))
	: ALL_SIZES;
const REPEATS = 3;
/** The rate of messages one Cloudflare queue takes: what one database must keep up with. */
const QUEUE_MESSAGES_PER_SECOND = 5_000;
/** Neon compute sized so settlement at that rate keeps this share of its cores busy. */
const TARGET_UTILISATION = 0.7;

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
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

/**
 * A way to settle batches whose deposits per second the throughput part measures. `concurrent`
 * ones are also run BENCH_CONCURRENCY batches at once.
 */
interface ThroughputVariant {
	name: string;
	what: string;
	concurrent: boolean;
	settle(batch: DepositMessage[]): Promise<void>;
}

const fmt = (n: number) => Math.round(n).toLocaleString("en-US").padStart(7);
const loadAverage = (l: number[]) => l.map((x) => x.toFixed(2)).join(" ");

/** Neon's compute sizes, in compute units (1 CU: 1 vCPU, 4 GB of memory). */
const NEON_SIZES = [
	0.25, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 40, 48, 56,
];

async function main() {
	console.log(`settle benchmark; Node ${process.version}, ${cpus().length} cores`);
	const loadBefore = await machineLoad();
	console.log(describeMachineLoad("before", loadBefore));
	let scratch: ScratchPostgres | undefined;
	if (!process.env.BENCH_DATABASE_URL) {
		process.stdout.write("starting a scratch Postgres cluster (initdb, pg_stat_statements preloaded) … ");
		scratch = await startScratchPostgres();
		console.log(`on ${redact(scratch.url)}`);
		// Ctrl-C (or a kill) must not leave the cluster running with its folder behind.
		const cluster = scratch;
		for (const [signal, code] of [
			["SIGINT", 130],
			["SIGTERM", 143],
		] as const) {
			process.once(signal, () => {
				cluster.stop();
				process.exit(code);
			});
		}
	}
	const baseUrl = process.env.BENCH_DATABASE_URL ?? scratch!.url;
	const database = `cricalgo_bench_settle_${process.pid}`;
	const url = withDatabase(baseUrl, database);
	console.log(`scratch database ${database} on ${redact(baseUrl)}`);
	const admin = new pg.Client({ connectionString: baseUrl });
	try {
		await admin.connect();
	} catch (error) {
		scratch?.stop();
		throw new Error(
			`cannot reach Postgres at ${redact(baseUrl)}: ${(error as Error).message}. Check BENCH_DATABASE_URL, or leave it unset for a scratch cluster.`,
		);
	}
	await admin.query(`CREATE DATABASE "${database}"`);
	const backend = postgresBackend(baseUrl, { poolSize: Math.max(4, CONCURRENCY * 2) });
	const server = await startNeonHttpServer(backend);
	const raw = new pg.Client({ connectionString: url });
	const floorClients = [raw];
	try {
		process.stdout.write("migrating and seeding users … ");
		await migratePostgres(url);
		await raw.connect();
		await requireStatementStatistics(raw, redact(baseUrl));
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

		const variants: ThroughputVariant[] = [
			{
				name: "ours",
				what: "consumer code → Neon HTTP protocol → local endpoint → Postgres",
				concurrent: true,
				async settle(bodies) {
					const tally = { acked: 0, retried: 0 };
					const outcomes = await settleDepositBatch(queueBatch(bodies, tally), context);
					if (tally.retried) throw new Error(`${tally.retried} messages were retried during the benchmark`);
					for (const outcome of outcomes.values()) {
						if (outcome !== "credited") throw new Error(`benchmark deposit ended "${outcome}", not credited`);
					}
				},
			},
			{
				name: "raw",
				what: "the same SQL over one pg connection",
				concurrent: false,
				async settle(bodies) {
					const param = JSON.stringify(settleRows(bodies));
					await raw.query("BEGIN");
					for (const statement of SETTLE_STATEMENTS) await raw.query(statement, [param]);
					await raw.query("COMMIT");
				},
			},
		];
		for (const v of variants) console.log(`  ${v.name}: ${v.what}`);
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

		// Warm every path (connections, plans, caches) before measuring.
		for (const v of variants) await timed(chunk(await syntheticDeposits(500, users), 100), 1, v.settle);

		console.log("throughput (deposits/s; moves with the machine's load):");
		let throughputRatio = Number.NaN;
		for (const { size, deposits } of SIZES) {
			const rates = new Map<string, number[]>();
			const add = (key: string, value: number) => rates.set(key, [...(rates.get(key) ?? []), value]);
			const nodeCpuMsPerBatch: number[] = [];
			for (let r = 0; r < REPEATS; r++) {
				for (const v of variants) {
					const batches = chunk(await syntheticDeposits(deposits, users), size);
					const cpuBefore = process.cpuUsage();
					add(v.name, await timed(batches, 1, v.settle));
					const cpu = process.cpuUsage(cpuBefore);
					if (v.name === "ours") nodeCpuMsPerBatch.push((cpu.user + cpu.system) / 1000 / batches.length);
					if (v.concurrent) {
						add(
							`${v.name} ×${CONCURRENCY}`,
							await timed(chunk(await syntheticDeposits(deposits, users), size), CONCURRENCY, v.settle),
						);
					}
				}
				if (size === 100) {
					add("floor", await floor(chunk(await syntheticDeposits(deposits, users), size), 1));
					add(
						`floor ×${CONCURRENCY}`,
						await floor(chunk(await syntheticDeposits(deposits, users), size), CONCURRENCY),
					);
				}
				process.stdout.write(`  … batch ${size}: run ${r + 1}/${REPEATS} done\n`);
			}
			const m = (key: string) => median(rates.get(key)!);
			const parts = variants.flatMap((v) => [
				`${v.name} ${fmt(m(v.name))}`,
				...(v.concurrent ? [`${v.name} ×${CONCURRENCY} ${fmt(m(`${v.name} ×${CONCURRENCY}`))}`] : []),
			]);
			console.log(
				`  batch ${String(size).padStart(3)}: ${parts.join(", ")}; ours/raw ${(m("ours") / m("raw")).toFixed(2)}`,
			);
			if (size === 100) {
				throughputRatio = m("ours") / m("raw");
				const nodeCpu = median(nodeCpuMsPerBatch);
				console.log(
					`  Node CPU: ${nodeCpu.toFixed(1)} ms per batch of 100 for ours' client and the local endpoint together (this process; alone it would cap ours near ${fmt((size * 1000) / nodeCpu)} deposits/s per core)`,
				);
				console.log(
					`  floor:    the writes alone ${fmt(m("floor"))} deposits/s (1 connection), ${fmt(m(`floor ×${CONCURRENCY}`))} (${CONCURRENCY} connections)`,
				);
			}
		}

		console.log(
			`record of deliveries (batch 100, ${DELIVERY_ROUNDS} alternating rounds, the consumer's round trip with and without the deposit_deliveries statement):`,
		);
		const deliveries = await measureDeliveriesCost(sql, raw, users, DELIVERY_ROUNDS);
		console.log(
			`  with ${fmt(deliveries.withRate).trim()} deposits/s, without ${fmt(deliveries.withoutRate).trim()}; with/without per round ${describeSpread(deliveries.ratio, deliveries.rounds)}; ${deliveries.recorded.toLocaleString("en-US")} deliveries recorded`,
		);

		console.log(
			`cost per deposit: ${COST_ROUNDS} rounds of one batch of ${COST_BATCH} per variant, alternating, measured by the server (pg_stat_statements) and the OS:`,
		);
		for (const v of COST_VARIANTS) console.log(`  ${v.name}: ${v.what}`);
		const connection = await costConnection(raw);
		type Round = Record<string, BatchCost>;
		const rounds: Round[] = [];
		for (let round = 1 - COST_WARM_UP_ROUNDS; round <= COST_ROUNDS; round++) {
			const order = round % 2 ? COST_VARIANTS : [...COST_VARIANTS].reverse();
			const measured: Round = {};
			for (const v of order) {
				const batch = JSON.stringify(settleRows(await syntheticDeposits(COST_BATCH, users)));
				measured[v.name] = await measureBatch(connection, v, batch);
			}
			if (round > 0) rounds.push(measured);
			if (round > 0 && (round % 25 === 0 || round === COST_ROUNDS)) {
				process.stdout.write(`  … cost round ${round}/${COST_ROUNDS}\n`);
			}
		}
		const statementMs = (c: BatchCost) => c.planMs + c.execMs;
		const perDeposit = (values: number[]) => median(values) / COST_BATCH;
		const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
		for (const v of COST_VARIANTS) {
			const c = rounds.map((r) => r[v.name]!);
			const cpu = c.every((x) => x.backendCpuMs !== undefined)
				? `; backend CPU ${us(perDeposit(c.map((x) => x.backendCpuMs!)))}`
				: "";
			console.log(
				`  ${v.name.padEnd(5)} Postgres time ${us(perDeposit(c.map(statementMs)))} per deposit (planning ${median(c.map((x) => x.planMs)).toFixed(2)} + execution ${median(c.map((x) => x.execMs)).toFixed(2)} ms per batch)${cpu}; ${perDeposit(c.map((x) => x.buffersTouched)).toFixed(1)} buffers touched and ${perDeposit(c.map((x) => x.buffersDirtied)).toFixed(2)} dirtied, ${fmt(perDeposit(c.map((x) => x.walBytes))).trim()} bytes of WAL per deposit (${median(c.map((x) => x.walFullPageImages))} full-page images per batch)`,
			);
		}
		const timeRatios = rounds.map((r) => statementMs(r.floor!) / statementMs(r.ours!));
		console.log(
			`  floor/ours Postgres time per deposit: ${describeSpread(spread(timeRatios), timeRatios.length)}`,
		);
		// The backend's CPU time leaves out the moments the OS gave its core to someone else,
		// which the statements' time (a clock inside the server) counts: on a busy machine a
		// 15 ms batch is taken off its core several times, and the rounds' time ratios spread
		// four times wider than their CPU ratios. So the closing ratio and one core's capacity
		// use the CPU time whenever the OS shows it (a server on this machine, as the scratch
		// cluster is), and the statements' time otherwise.
		const haveCpu = rounds.every(
			(r) => r.ours!.backendCpuMs !== undefined && r.floor!.backendCpuMs !== undefined,
		);
		const cpuRatios = haveCpu ? rounds.map((r) => r.floor!.backendCpuMs! / r.ours!.backendCpuMs!) : [];
		if (haveCpu) {
			console.log(
				`  floor/ours backend CPU per deposit:   ${describeSpread(spread(cpuRatios), cpuRatios.length)}`,
			);
		}
		const ratio = spread(haveCpu ? cpuRatios : timeRatios);
		const ours = rounds.map((r) => r.ours!);
		const msPerDeposit = haveCpu
			? perDeposit(ours.map((x) => x.backendCpuMs!))
			: perDeposit(ours.map(statementMs));
		const perCore = 1000 / msPerDeposit;
		const cores = QUEUE_MESSAGES_PER_SECOND / perCore;
		const neonSize = NEON_SIZES.find((s) => s >= cores / TARGET_UTILISATION) ?? Number.NaN;
		console.log(
			`  one Postgres core sustains about ${fmt(perCore).trim()} deposits/s at batch ${COST_BATCH} (${haveCpu ? "backend CPU" : "statement time"}: ${us(msPerDeposit)} per deposit); ${QUEUE_MESSAGES_PER_SECOND.toLocaleString("en-US")} messages/s (one queue's limit) keep ${cores.toFixed(2)} cores busy: Neon compute of ${neonSize} CU at ${Math.round(TARGET_UTILISATION * 100)} % busy, before WAL writing, replication to Neon's safekeepers and autovacuum`,
		);

		const report = await checkLedgerInvariants(async (q, p) => (await raw.query(q, p)).rows);
		console.log(formatLedgerReport(report));
		const loadAfter = await machineLoad();
		console.log(describeMachineLoad("after", loadAfter));
		if (isBusy(loadBefore) || isBusy(loadAfter)) {
			console.log(
				`warning: other work ran beside this benchmark (load average ${loadAverage(loadBefore.loadAverage)} before, ${loadAverage(loadAfter.loadAverage)} after); trust the per-deposit cost, not the deposits/s`,
			);
		}
		// The record's cost to the server alone, round by round: steadier than deposits/s.
		const recordCpu = haveCpu ? rounds.map((r) => r.deliveries!.backendCpuMs! / r.ours!.backendCpuMs!) : [];
		const recordTime = rounds.map((r) => statementMs(r.deliveries!) / statementMs(r.ours!));
		const recordWal = perDeposit(rounds.map((r) => r.deliveries!.walBytes - r.ours!.walBytes));
		const lost = lostShare(deliveries);
		const withinBudget = lost <= DELIVERIES_BUDGET;
		console.log(
			`deliveries: with ${fmt(deliveries.withRate).trim()} deposits/s, without ${fmt(deliveries.withoutRate).trim()} at batch ${COST_BATCH}; ${(lost * 100).toFixed(1)} % lost (${withinBudget ? "within" : "OVER"} the ${DELIVERIES_BUDGET * 100} % budget)`,
		);
		console.log(
			`deliveries WAL: ${fmt(deliveries.withWal).trim()} bytes per deposit with, ${fmt(deliveries.withoutWal).trim()} without (+${fmt(deliveries.withWal - deliveries.withoutWal).trim()})`,
		);
		console.log(
			`deliveries server cost: ${haveCpu ? `backend CPU ×${median(recordCpu).toFixed(3)}` : `statement time ×${median(recordTime).toFixed(3)}`} per deposit, +${fmt(recordWal).trim()} WAL bytes per deposit (pg_stat_statements, ${rounds.length} cost rounds)`,
		);
		console.log(`throughput ratio: ${throughputRatio.toFixed(2)}`);
		console.log(
			`ratio: ${ratio.median.toFixed(3)}${haveCpu ? "" : " (statement time: this machine cannot see the server's backend)"}`,
		);
		if (!withinBudget) console.error("the record of deliveries costs more than its budget of throughput");
		if (!withinBudget) process.exitCode = 1;
		if (!report.ok) console.error("the ledger invariants do not hold after the benchmark");
		if (!report.ok) process.exitCode = 1;
	} finally {
		await Promise.all(floorClients.map((c) => c.end().catch(() => {})));
		await server.close();
		await backend.close();
		await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
		await admin.end();
		scratch?.stop();
	}
}

const USAGE = `npm run bench:settle: what settling deposits costs (throughput, Postgres cost per deposit, the deliveries record)

Runs in a scratch Postgres cluster started here and removed afterwards (needs the PostgreSQL
server package: initdb, pg_ctl). Settings, all optional, from the environment:
  BENCH_DATABASE_URL     another server to use instead (must preload pg_stat_statements)
  BENCH_SIZES            batch sizes of the throughput part, e.g. 100 or 10,100 (default 1,10,100)
  BENCH_CONCURRENCY      batches at once in the concurrent variants (default 4)
  BENCH_COST_ROUNDS      alternating rounds of the cost part (default 150)
  BENCH_DELIVERY_ROUNDS  alternating rounds with and without the deliveries record (default 30)
Exits 1 when the deliveries record costs more than its budget, or the ledger invariants break.
load/README.md says which figure to trust for what.`;

if (process.argv.includes("--help") || process.argv.includes("-h")) {
	console.log(USAGE);
} else {
	main().catch((error: unknown) => {
		console.error(`bench:settle failed: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	});
}
