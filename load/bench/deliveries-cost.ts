/**
 * What the record of deliveries (`deposit_deliveries`, one row per settled message, written by
 * queue-consumer/src/record-deliveries.ts in the batch's transaction) costs settlement, as part
 * of `npm run bench:settle`: batches of 100 new deposits, each past its threshold, settled by the
 * consumer's own round trip (`settleInOneRoundTrip`, through `@neondatabase/serverless` and the
 * local Neon endpoint to Postgres) with the deliveries statement and without it, in short rounds
 * that alternate which goes first. Each round gives both variants' deposits/s and write-ahead
 * log per deposit (`pg_current_wal_lsn()` before and after); the result is the median over the
 * rounds, and the share lost is one minus the median of the rounds' with/without ratios, so a
 * neighbour's burst of CPU moves one round, not the figure.
 *
 * @module
 */
import type pg from "pg";
import {
	type DeliveryRow,
	deliveryRow,
	type SettleRow,
	type Sql,
	settleInOneRoundTrip,
	settleRow,
} from "../../queue-consumer/engine";
import type { DepositMessage } from "../../schema/queue-message";
import { median, type Spread, spread } from "./round-stats";
import { config, syntheticDeposits } from "./settle-fixtures";

/** The share of throughput the record may cost. */
export const DELIVERIES_BUDGET = 0.15;
const BATCH = 100;
const BATCHES_PER_ROUND = 3;

interface Batch {
	rows: SettleRow[];
	deliveries: DeliveryRow[];
}

/** Batches of new deposits with their delivery records, as the consumer builds them. */
async function batches(users: string[], count: number): Promise<Batch[]> {
	const out: Batch[] = [];
	for (let b = 0; b < count; b++) {
		// As the edge sends them: with their source and the edge's version.
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

export interface DeliveriesCost {
	rounds: number;
	depositsPerRound: number;
	/** Median deposits/s over the rounds. */
	withRate: number;
	withoutRate: number;
	/** with / without, round by round. */
	ratio: Spread;
	/** Median WAL bytes per deposit. */
	withWal: number;
	withoutWal: number;
	/** Delivery rows written by the rounds with the record (one per deposit). */
	recorded: number;
}

/** Runs `rounds` alternating rounds on the benchmark's database (`raw` reads the WAL position). */
export async function measureDeliveriesCost(
	sql: Sql,
	raw: pg.Client,
	users: string[],
	rounds: number,
): Promise<DeliveriesCost> {
	const lsn = async () =>
		(await raw.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn")).rows[0]!.lsn;
	const walSince = async (from: string) =>
		Number(
			(await raw.query<{ b: string }>("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1) AS b", [from]))
				.rows[0]!.b,
		);
	const deposits = BATCH * BATCHES_PER_ROUND;
	const recordedBefore = await countDeliveries(raw);

	const run = async (withDeliveries: boolean) => {
		const work = await batches(users, BATCHES_PER_ROUND);
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
		return { rate: deposits / seconds, wal: (await walSince(from)) / deposits };
	};

	// Warm both paths (plans, the deliveries table's first pages), then start after a checkpoint
	// (a superuser's right; without it the WAL figures are noisier), so the full-page images the
	// rounds pay are those of their own writes.
	await run(true);
	await run(false);
	await raw.query("CHECKPOINT").catch(() => {});
	const withRounds: { rate: number; wal: number }[] = [];
	const withoutRounds: { rate: number; wal: number }[] = [];
	for (let r = 0; r < rounds; r++) {
		if (r % 2) {
			withoutRounds.push(await run(false));
			withRounds.push(await run(true));
		} else {
			withRounds.push(await run(true));
			withoutRounds.push(await run(false));
		}
		if ((r + 1) % 10 === 0 || r + 1 === rounds)
			process.stdout.write(`  … deliveries round ${r + 1}/${rounds}\n`);
	}
	return {
		rounds,
		depositsPerRound: deposits,
		withRate: median(withRounds.map((x) => x.rate)),
		withoutRate: median(withoutRounds.map((x) => x.rate)),
		ratio: spread(withRounds.map((x, k) => x.rate / withoutRounds[k]!.rate)),
		withWal: median(withRounds.map((x) => x.wal)),
		withoutWal: median(withoutRounds.map((x) => x.wal)),
		recorded: (await countDeliveries(raw)) - recordedBefore,
	};
}

async function countDeliveries(raw: pg.Client): Promise<number> {
	return Number((await raw.query<{ n: string }>("SELECT count(*) AS n FROM deposit_deliveries")).rows[0]!.n);
}

/** The share of throughput lost: one minus the median of the rounds' ratios. */
export const lostShare = (cost: DeliveriesCost) => 1 - cost.ratio.median;
