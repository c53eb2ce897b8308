/**
 * `npm run bench:deliveries`: what the record of deliveries (`deposit_deliveries`, one row per
 * settled message, queue-consumer/src/record-deliveries.ts) costs settlement, in one run on one
 * machine: batches of 100 new deposits, each past its threshold, settled by the consumer's own
 * round trip (`settleInOneRoundTrip`: the batch transaction through `@neondatabase/serverless`
 * to the local Neon endpoint in front of Postgres), once with the deliveries statement and once
 * without, interleaved, five runs each. Reports deposits/s for both and their ratio, and the
 * write-ahead log written per deposit for both (from `pg_current_wal_lsn()`).
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
import {
	type DeliveryRow,
	deliveryRow,
	type SettleRow,
	type Sql,
	settleInOneRoundTrip,
	settleRow,
} from "../../queue-consumer/engine";
import type { DepositMessage } from "../../schema/queue-message";
import { config, syntheticDeposits } from "./settle-fixtures";

const BASE_URL = process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const USERS = 2_000;
const BATCH = 100;
const DEPOSITS_PER_RUN = 5_000;
const REPEATS = 5;

async function batches(users: string[]) {
	const out: { rows: SettleRow[]; deliveries: DeliveryRow[] }[] = [];
	for (let b = 0; b < DEPOSITS_PER_RUN / BATCH; b++) {
		// The settle benchmark's deposits, as the edge now sends them: with their source and version.
		const messages: DepositMessage[] = (await syntheticDeposits(BATCH, users)).map((m) => ({
			...m,
			source: "cricalgo",
			edge_version: "00000000-0000-4000-8000-000000000001",
		}));
		out.push({
			rows: messages.map((m, i) => ({
				i,
				message_id: `q-${m.webhook_id}`,
				attempts: 1,
				...settleRow(m, config),
			})),
			deliveries: messages.map((m) =>
				deliveryRow(m, { id: `q-${m.webhook_id}`, attempts: 1 }, "bench-consumer"),
			),
		});
	}
	return out;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");

async function main() {
	const database = `cricalgo_bench_deliveries_${process.pid}`;
	const url = new URL(BASE_URL);
	url.pathname = `/${database}`;
	console.log(`deliveries benchmark on ${redact(BASE_URL)} (scratch database ${database})`);
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
	const backend = postgresBackend(BASE_URL, { poolSize: 4 });
	const server = await startNeonHttpServer(backend);
	const raw = new pg.Client({ connectionString: url.toString() });
	try {
		process.stdout.write("migrating and seeding users … ");
		await migratePostgres(url.toString());
		await raw.connect();
		const { rows } = await raw.query<{ id: string }>(
			`WITH u AS (INSERT INTO users (username) SELECT 'bench_' || g FROM generate_series(1, ${USERS}) g RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id AS id`,
		);
		const users = rows.map((r) => r.id);
		await raw.query("ANALYZE");
		console.log("done");
		neonConfig.fetchEndpoint = server.endpoint;
		const sql = neon(url.toString()) as Sql;
		const lsn = async () =>
			(await raw.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
		const walSince = async (from: string) =>
			Number(
				(await raw.query<{ b: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b", [from]))
					.rows[0]!.b,
			);

		const run = async (withDeliveries: boolean) => {
			const work = await batches(users);
			// Each run starts just after a checkpoint, so both pay the same full-page images and a
			// checkpoint falling inside one run does not skew its WAL figure (needs a superuser or
			// pg_checkpoint; without, the WAL figures are noisier).
			await raw.query("CHECKPOINT").catch(() => {});
			const from = await lsn();
			const started = performance.now();
			for (const b of work) {
				const outcomes = await settleInOneRoundTrip(
					sql,
					b.rows,
					[],
					10_000,
					undefined,
					withDeliveries ? b.deliveries : [],
				);
				for (const outcome of outcomes.values()) {
					if (outcome !== "credited") throw new Error(`benchmark deposit ended "${outcome}", not credited`);
				}
			}
			const seconds = (performance.now() - started) / 1000;
			return { rate: DEPOSITS_PER_RUN / seconds, wal: (await walSince(from)) / DEPOSITS_PER_RUN };
		};

		await run(true);
		await run(false);
		const results = {
			with: [] as { rate: number; wal: number }[],
			without: [] as { rate: number; wal: number }[],
		};
		for (let r = 0; r < REPEATS; r++) {
			// Alternate which goes first, so neither always meets a warmer or a busier server.
			if (r % 2) {
				results.without.push(await run(false));
				results.with.push(await run(true));
			} else {
				results.with.push(await run(true));
				results.without.push(await run(false));
			}
			process.stdout.write(`  run ${r + 1}/${REPEATS} done\n`);
		}
		const withRate = median(results.with.map((x) => x.rate));
		const withoutRate = median(results.without.map((x) => x.rate));
		const withWal = median(results.with.map((x) => x.wal));
		const withoutWal = median(results.without.map((x) => x.wal));
		const [{ n }] = (await raw.query<{ n: string }>("SELECT count(*) AS n FROM deposit_deliveries")).rows as [
			{ n: string },
		];
		console.log(`batch ${BATCH}, ${DEPOSITS_PER_RUN} deposits a run, median of ${REPEATS}:`);
		console.log(
			`  with the record of deliveries:    ${fmt(withRate)} deposits/s, ${fmt(withWal)} WAL bytes per deposit`,
		);
		console.log(
			`  without it:                       ${fmt(withoutRate)} deposits/s, ${fmt(withoutWal)} WAL bytes per deposit`,
		);
		console.log(
			`  deliveries recorded: ${n} (one per deposit of the runs with it, the warm-up run included)`,
		);
		console.log(
			`load average after: ${loadavg()
				.map((l) => l.toFixed(2))
				.join(" ")}`,
		);
		const lost = 1 - withRate / withoutRate;
		console.log(
			`deliveries ratio: ${(withRate / withoutRate).toFixed(2)} (${(lost * 100).toFixed(1)} % of throughput lost; +${fmt(withWal - withoutWal)} WAL bytes per deposit)`,
		);
	} finally {
		await raw.end().catch(() => {});
		await server.close();
		await backend.close();
		await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`).catch(() => {});
		await admin.end();
	}
}

main().catch((error: unknown) => {
	console.error(`bench:deliveries failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
