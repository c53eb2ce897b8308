/**
 * Seeded scenarios under at-least-once delivery (at-least-once.ts): every message delivered
 * 1–5 times, shuffled, across concurrent batches, against the model (model.ts) and the ledger
 * invariants. The last scenario fails the database on a share of requests through the fault
 * proxy (errors, time-outs, answers lost after commit), then lets it recover.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FaultStats } from "../../ops/local/fault-settings";
import type { DepositMessage } from "../../schema/queue-message";
import { resetDatabase } from "../../test/support/database";
import { deliverAtLeastOnce, seededRandom, shuffle } from "./support/at-least-once";
import { again, checkLedger, createUser, depositMessage, faults, sql } from "./support/consumer";
import { checkAgainstModel } from "./support/model";

const THRESHOLDS = { bep20: 12, erc20: 12, trc20: 19 };

beforeEach(async () => {
	await faults.clear();
	await resetDatabase(env);
});
afterEach(async () => {
	await faults.clear();
	await faults.quiet();
});

function amount(random: () => number): string {
	const whole = Math.floor(random() * 5000);
	const fraction = Math.floor(random() * 1e8)
		.toString()
		.padStart(8, "0")
		.replace(/0+$/, "");
	return fraction ? `${whole}.${fraction}` : `${whole || 1}`;
}

/**
 * Deposits seen as their confirmations grow: some reach the threshold, some stay pending; the
 * minimal ones (no count) wait, since no chain here lets senders assert finality.
 */
async function sightings(random: () => number, users: string[], count: number) {
	const deposits: DepositMessage[] = [];
	const messages: DepositMessage[] = [];
	for (let d = 0; d < count; d++) {
		const legacy = random() < 0.15;
		const unknown = random() < 0.1;
		const base = await depositMessage({
			chain: random() < 0.8 ? "bep20" : "trc20",
			amount: amount(random),
			user_id: unknown ? crypto.randomUUID() : users[Math.floor(random() * users.length)]!,
			confirmations: legacy ? null : 1,
			status: legacy ? "confirmed" : "pending",
			// The block the watcher saw it in: a removal names it, so a late sighting from it is stale.
			block_number: String(40_000_000 + d),
		});
		deposits.push(base);
		if (legacy) {
			messages.push(base);
			continue;
		}
		const threshold = THRESHOLDS[base.chain];
		const top = random() < 0.8 ? threshold + Math.floor(random() * 10) : threshold - 1;
		for (let c = 1 + Math.floor(random() * 4); c > 0; c--) {
			const confirmations = Math.max(0, top - Math.floor(random() * top));
			messages.push(
				again(base, { confirmations, status: confirmations >= threshold ? "confirmed" : "pending" }),
			);
		}
		messages.push(again(base, { confirmations: top, status: top >= threshold ? "confirmed" : "pending" }));
	}
	return { deposits, messages };
}

async function players(n: number): Promise<string[]> {
	return Promise.all(Array.from({ length: n }, () => createUser()));
}

describe("at-least-once delivery", () => {
	it("settles every deposit exactly once when each message comes 1–5 times, shuffled, in concurrent batches", async () => {
		const random = seededRandom(20261121);
		const users = await players(8);
		const { deposits, messages } = await sightings(random, users, 60);
		const report = await deliverAtLeastOnce(messages, { random, maxCopies: 5, maxBatch: 25, concurrency: 4 });
		expect(report.deliveries).toBeGreaterThan(messages.length * 2);
		await checkAgainstModel([messages], { thresholds: THRESHOLDS, users });
		const ledger = await checkLedger(deposits.map((d) => d.tx_id));
		expect(ledger.deposits.credited).toBeGreaterThan(20);
		expect(ledger.deposits.pending).toBeGreaterThan(0);
		expect(ledger.deposits.unmatched).toBeGreaterThan(0);
	});

	it("drops deposits reorged before credit and reverses those reorged after", async () => {
		const random = seededRandom(7);
		const users = await players(5);
		const { deposits, messages } = await sightings(random, users, 40);
		// Reorgs mixed into the same deliveries as the sightings: before or after the credit.
		const early = deposits.filter(() => random() < 0.25).map((d) => again(d, { status: "removed" }));
		const first = [...messages, ...early];
		await deliverAtLeastOnce(first, { random });
		const seen = await checkAgainstModel([first], { thresholds: THRESHOLDS, users });
		await checkLedger(deposits.map((d) => d.tx_id));

		// Later reorgs of credited deposits, and late stale sightings of reorged ones.
		const credited = deposits.filter((d) => seen.get(d.tx_id) === "credited");
		const reverted = deposits.filter((d) => seen.get(d.tx_id) === "reverted");
		expect(credited.length).toBeGreaterThan(3);
		// Whether a reorg came before or after its credit in one flush, it never stays credited.
		expect(early.length).toBeGreaterThan(3);
		for (const r of early) expect(["reverted", "reversed"]).toContain(seen.get(r.tx_id));
		const second = [
			...credited.slice(0, Math.ceil(credited.length / 2)).map((d) => again(d, { status: "removed" })),
			...reverted.map((d) => again(d, { confirmations: 30, status: "confirmed" })),
		];
		await deliverAtLeastOnce(second, { random });
		const after = await checkAgainstModel([first, second], { thresholds: THRESHOLDS, users }, seen);
		expect([...after.values()].filter((s) => s === "reversed").length).toBeGreaterThanOrEqual(
			Math.ceil(credited.length / 2),
		);
		await checkLedger(deposits.map((d) => d.tx_id));
	});

	it("parks deposits for unknown users and credits each once after an admin assigns it", async () => {
		const random = seededRandom(99);
		const strangers = await Promise.all(
			Array.from({ length: 12 }, () =>
				depositMessage({ user_id: crypto.randomUUID(), amount: amount(random), confirmations: 15 }),
			),
		);
		await deliverAtLeastOnce(strangers, { random });
		const users = await players(3);
		const seen = await checkAgainstModel([strangers], { thresholds: THRESHOLDS, users });
		expect([...seen.values()].every((s) => s === "unmatched")).toBe(true);

		// What the admin route does: fix the owner on the row, then send its message (same key
		// and amount, stored confirmations, status confirmed).
		const assignments = strangers.map((d, i) =>
			again(d, { user_id: users[i % users.length]!, status: "confirmed", webhook_id: `admin-assign:${i}` }),
		);
		for (const a of assignments) {
			await sql().query("UPDATE deposits SET user_id = $2 WHERE id = $1 AND status = 'unmatched'", [
				a.tx_id,
				a.user_id,
			]);
		}
		await deliverAtLeastOnce(assignments, { random, maxCopies: 4 });
		const after = await checkAgainstModel([strangers, assignments], { thresholds: THRESHOLDS, users }, seen);
		expect([...after.values()].every((s) => s === "credited")).toBe(true);
		await checkLedger(strangers.map((d) => d.tx_id));
	});

	it("records every disagreeing amount or currency as a conflict and credits only the stored one", async () => {
		const random = seededRandom(5);
		const users = await players(4);
		const deposits = await Promise.all(
			Array.from({ length: 15 }, (_, i) =>
				depositMessage({ user_id: users[i % 4]!, amount: amount(random), confirmations: 20 }),
			),
		);
		const disputes = deposits.flatMap((d) => [
			again(d, { amount: amount(random) }),
			again(d, { currency: "BUSD" }),
		]);
		const first = shuffle([...deposits, ...disputes], random);
		await deliverAtLeastOnce(first, { random });
		const seen = await checkAgainstModel([first], { thresholds: THRESHOLDS, users });
		const later = deposits.map((d) => again(d, { amount: amount(random) }));
		await deliverAtLeastOnce(later, { random });
		await checkAgainstModel([first, later], { thresholds: THRESHOLDS, users }, seen);
		await checkLedger(deposits.map((d) => d.tx_id));
		// Per deposit, one USDT amount lost the race in the first flush and one came later: 30
		// conflicts in USDT. (Each BUSD message is a conflict or, if it came before its deposit
		// existed, a dead letter: the model checked where each one went.)
		const [usdt] = await sql().query(
			"SELECT count(*)::int AS n FROM deposit_conflicts WHERE currency = 'USDT'",
		);
		expect(usdt).toEqual({ n: 30 });
	});
});

describe("a failing database", () => {
	it("loses and duplicates nothing while a share of requests fail, time out or lose their answer", async () => {
		const random = seededRandom(424242);
		const users = await players(6);
		const { deposits, messages } = await sightings(random, users, 40);
		const reorgs = deposits.filter(() => random() < 0.2).map((d) => again(d, { status: "removed" }));
		const all = [...messages, ...reorgs];
		await faults.set({
			errorRate: 0.2,
			timeoutRate: 0.05,
			dropAfterCommitRate: 0.2,
			seed: 17,
			hangMs: 1_200,
		});
		let during: FaultStats | undefined;
		const report = await deliverAtLeastOnce(all, {
			random,
			maxBatch: 10,
			env: { ...env, DATABASE_TIMEOUT_MS: 1_000 },
			afterRound: async (round) => {
				// The database recovers after a while.
				if (round === 10) {
					during = await faults.stats();
					await faults.clear();
				}
			},
		});
		during ??= await faults.stats();
		expect(during.errors).toBeGreaterThan(0);
		expect(during.dropsAfterCommit).toBeGreaterThan(0);
		expect(report.retries).toBeGreaterThan(0);
		await faults.quiet();
		await checkAgainstModel([all], { thresholds: THRESHOLDS, users });
		await checkLedger(deposits.map((d) => d.tx_id));
	});
});
