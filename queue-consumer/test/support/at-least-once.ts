/**
 * An at-least-once delivery harness around the consumer's real `queue` handler: every message
 * is delivered 1–N times (a sender's retry is a new message id; a lost ack redelivers the same
 * id), in shuffled order, in batches of random size that run concurrently; whatever the
 * handler retries is queued again with its attempt count raised, until everything is acked.
 * Seeded, so a failing run can be replayed.
 *
 * @module
 */
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { deliver } from "./consumer";

/** A reproducible generator of numbers in [0, 1), from a seed. */
export function seededRandom(seed: number): () => number {
	const rng = xoroshiro128plus(seed);
	return () => uniformFloat64(rng);
}

export function shuffle<T>(items: T[], random: () => number): T[] {
	for (let i = items.length - 1; i > 0; i--) {
		const j = Math.floor(random() * (i + 1));
		[items[i], items[j]] = [items[j]!, items[i]!];
	}
	return items;
}

interface DeliveryOptions {
	random: () => number;
	/** Each message is delivered 1..maxCopies times (default 5). */
	maxCopies?: number;
	/** Batches hold 1..maxBatch messages (default 20). */
	maxBatch?: number;
	/** Batches delivered at the same time (default 4). */
	concurrency?: number;
	env?: Env;
	/** Called after each round, e.g. to end a period of faults. */
	afterRound?: (round: number) => Promise<void> | void;
	/** Gives up (and fails) after this many rounds (default 200). */
	maxRounds?: number;
}

interface DeliveryReport {
	deliveries: number;
	batches: number;
	retries: number;
	rounds: number;
}

interface Copy {
	id: string;
	body: unknown;
	attempts: number;
}

let sent = 0;

/** Delivers every body at least once, and as many times as the plan says; resolves when all are acked. */
export async function deliverAtLeastOnce(
	bodies: unknown[],
	options: DeliveryOptions,
): Promise<DeliveryReport> {
	const { random } = options;
	const maxCopies = options.maxCopies ?? 5;
	const maxBatch = options.maxBatch ?? 20;
	const concurrency = options.concurrency ?? 4;
	const queue: Copy[] = [];
	for (const body of bodies) {
		const copies = 1 + Math.floor(random() * maxCopies);
		let id = `sent-${++sent}`;
		for (let c = 0; c < copies; c++) {
			// Half of the extra copies are the sender trying again (a new message), half a lost ack.
			if (c > 0 && random() < 0.5) id = `sent-${++sent}`;
			queue.push({ id, body, attempts: 1 });
		}
	}
	shuffle(queue, random);
	const report: DeliveryReport = { deliveries: 0, batches: 0, retries: 0, rounds: 0 };
	while (queue.length) {
		if (++report.rounds > (options.maxRounds ?? 200)) {
			throw new Error(`${queue.length} messages still unsettled after ${report.rounds - 1} rounds`);
		}
		const batches: Copy[][] = [];
		for (let b = 0; b < concurrency && queue.length; b++) {
			const size = 1 + Math.floor(random() * maxBatch);
			const batch: Copy[] = [];
			const ids = new Set<string>();
			// One message id appears once per batch; a second copy waits for a later batch.
			for (let i = 0; i < queue.length && batch.length < size; ) {
				const copy = queue[i]!;
				if (ids.has(copy.id)) {
					i++;
					continue;
				}
				ids.add(copy.id);
				batch.push(copy);
				queue.splice(i, 1);
			}
			batches.push(batch);
		}
		const results = await Promise.all(
			batches.map((batch) =>
				deliver(
					batch.map((c) => c.body),
					{ ids: batch.map((c) => c.id), attempts: batch.map((c) => c.attempts), env: options.env },
				),
			),
		);
		results.forEach((result, b) => {
			const batch = batches[b]!;
			report.batches++;
			report.deliveries += batch.length;
			for (const copy of batch) {
				if (result.acked.has(copy.id)) continue;
				report.retries++;
				const at = Math.floor(random() * (queue.length + 1));
				queue.splice(at, 0, { ...copy, attempts: copy.attempts + 1 });
			}
		});
		await options.afterRound?.(report.rounds);
	}
	return report;
}
