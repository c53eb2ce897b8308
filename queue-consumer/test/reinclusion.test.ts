/**
 * Reorgs and re-inclusions, every edge of docs/deposit-states.md, each scenario delivered in
 * every order of its messages (or a seeded sample of the orders, where there are too many),
 * one message per batch, then all of it again (every message redelivered), then all of it in
 * one batch: the deposit ends where the scenario says whatever the order, a redelivery changes
 * nothing, and the ledger invariants hold after every scenario.
 */

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import type { DepositMessage } from "../../schema/queue-message";
import { resetDatabase } from "../../test/support/database";
import { seededRandom } from "./support/at-least-once";
import { again, balance, checkLedger, createUser, deliver, depositMessage, sql } from "./support/consumer";

beforeEach(async () => {
	await resetDatabase(env);
});

/** One message of a scenario: a sighting with confirmations, or a removal, in a block (or none). */
type Step =
	| { kind: "seen"; block: string | null; confirmations: number }
	| { kind: "removed"; block: string | null };
const seen = (block: string | null, confirmations = 12): Step => ({ kind: "seen", block, confirmations });
const removed = (block: string | null): Step => ({ kind: "removed", block });

interface Outcome {
	status: string;
	balance: string;
	inclusion: number;
	hold_reason: string | null;
}

function permutations<T>(items: T[]): T[][] {
	if (items.length <= 1) return [items];
	return items.flatMap((item, i) =>
		permutations([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest]),
	);
}

/** Every order when there are few, else `sample` of them picked by a seeded shuffle. */
function orders<T>(items: T[], sample = 12): T[][] {
	const all = permutations(items);
	if (all.length <= sample) return all;
	const random = seededRandom(20261202);
	return Array.from({ length: sample }, () => all[Math.floor(random() * all.length)]!);
}

function message(base: DepositMessage, step: Step): DepositMessage {
	return step.kind === "removed"
		? again(base, { status: "removed", block_number: step.block })
		: again(base, {
				status: step.confirmations >= 12 ? "confirmed" : "pending",
				confirmations: step.confirmations,
				block_number: step.block,
			});
}

async function state(txId: string, user: string): Promise<Outcome> {
	const [row] = (await sql().query(
		"SELECT status::text, inclusion, hold_reason FROM deposits WHERE id = $1",
		[txId],
	)) as Omit<Outcome, "balance">[];
	expect(row, `deposit ${txId} is not stored: a message was swallowed`).toBeDefined();
	return { ...row!, balance: await balance(user) };
}

/**
 * Delivers the steps in `order` one per batch, then all again one per batch, then all in one
 * batch; returns the state after the first pass and checks the later passes changed nothing.
 */
async function run(order: Step[], stable: boolean): Promise<Outcome> {
	const user = await createUser();
	const base = await depositMessage({ user_id: user, amount: "25.5" });
	const messages = order.map((step) => message(base, step));
	for (const m of messages) await deliver([m]);
	const first = await state(base.tx_id, user);
	for (const m of messages) await deliver([again(m)]);
	if (stable) expect(await state(base.tx_id, user), "after every message was redelivered").toEqual(first);
	await deliver(messages.map((m) => again(m)));
	const last = await state(base.tx_id, user);
	if (stable) expect(last, "after all of it again in one batch").toEqual(first);
	return last;
}

const describeOrder = (order: Step[]) =>
	order
		.map((s) => (s.kind === "removed" ? `removed@${s.block}` : `seen@${s.block}:${s.confirmations}`))
		.join(" → ");

/**
 * Runs every order; `accept` says which outcomes are right. `stable`: a redelivery must change
 * nothing (not so where no block number tells a redelivery from a re-inclusion: it is held).
 */
async function expectEveryOrder(
	steps: Step[],
	accept: (o: Outcome) => boolean,
	{ sample, stable = true }: { sample?: number; stable?: boolean } = {},
) {
	const results: string[] = [];
	for (const order of orders(steps, sample)) {
		const outcome = await run(order, stable);
		results.push(`${describeOrder(order)}: ${JSON.stringify(outcome)}`);
		expect(
			accept(outcome),
			`unexpected outcome for ${describeOrder(order)}: ${JSON.stringify(outcome)}`,
		).toBe(true);
	}
	await checkLedger();
	return results;
}

describe("re-inclusion after a reorg", () => {
	it("credits once more a credited transfer that a reorg removed and a new block confirmed", async () => {
		await expectEveryOrder(
			[seen("100"), removed("100"), seen("105")],
			(o) => o.status === "credited" && o.balance === "25.50000000",
		);
		// In the order the chain went, the ledger shows both inclusions: credit, reversal, credit.
		const user = await createUser();
		const base = await depositMessage({ user_id: user, amount: "25.5" });
		for (const step of [seen("100"), removed("100"), seen("105")]) await deliver([message(base, step)]);
		const rows = await sql().query(
			`SELECT tx_type, amount::text, metadata->>'inclusion' AS inclusion FROM transactions
			 WHERE related_id = $1 ORDER BY created_at, tx_type`,
			[base.tx_id],
		);
		expect(rows).toEqual([
			{ tx_type: "deposit", amount: "25.50000000", inclusion: "1" },
			{ tx_type: "deposit_reversal", amount: "25.50000000", inclusion: "1" },
			{ tx_type: "deposit", amount: "25.50000000", inclusion: "2" },
		]);
		expect(await state(base.tx_id, user)).toMatchObject({ status: "credited", inclusion: 2 });
		await checkLedger([base.tx_id]);
	});

	it("goes on to credit a pending transfer that a reorg removed and a new block confirmed", async () => {
		await expectEveryOrder(
			[seen("100", 3), removed("100"), seen("105", 4), seen("105")],
			(o) => o.status === "credited" && o.balance === "25.50000000",
			{ sample: 24 },
		);
	});

	it("keeps a re-included transfer pending until its new block reaches the threshold", async () => {
		await expectEveryOrder(
			[seen("100"), removed("100"), seen("105", 5)],
			(o) => o.status === "pending" && o.balance === "0.00000000",
		);
	});

	it("credits exactly once per inclusion through two reorgs", async () => {
		await expectEveryOrder(
			[seen("100"), removed("100"), seen("105"), removed("105"), seen("110")],
			(o) => o.status === "credited" && o.balance === "25.50000000",
			{ sample: 16 },
		);
	});

	it("ends reversed when the last inclusion was removed too", async () => {
		await expectEveryOrder(
			[seen("100"), removed("100"), seen("105"), removed("105")],
			// reverted: in the orders where both removals came before the sightings, nothing was ever credited
			(o) => (o.status === "reversed" || o.status === "reverted") && o.balance === "0.00000000",
			{ sample: 16 },
		);
	});

	it("never lets a removal seen before the deposit swallow it: a sighting in another block credits", async () => {
		// The removal names the block the watcher saw first; the transfer lives on in block 105.
		await expectEveryOrder(
			[removed("100"), seen("105")],
			(o) => o.status === "credited" && o.balance === "25.50000000",
		);
		// A late sighting of the removed block itself stays dropped.
		await expectEveryOrder(
			[seen("100"), removed("100")],
			(o) => o.status === "reverted" || (o.status === "reversed" && o.balance === "0.00000000"),
		);
	});

	it("holds for review, never drops, a sighting after a removal when no block number can tell", async () => {
		const outcomes = await expectEveryOrder(
			[seen(null), removed(null), seen(null, 13)],
			(o) =>
				o.balance === "0.00000000" &&
				(o.status === "reversed" || (o.status === "held" && o.hold_reason === "reinclusion_unproven")),
			{ stable: false },
		);
		expect(outcomes.some((o) => o.includes('"held"'))).toBe(true);
		// Held and visible: the admin list of held deposits can show why.
		const [held] = await sql().query(
			"SELECT hold_detail->>'previous_status' AS previous FROM deposits WHERE status = 'held' LIMIT 1",
		);
		expect(held).toEqual({ previous: expect.stringMatching(/^(reversed|reverted)$/) });
	});

	it("holds a removal of a block nobody named, then any sighting, for review", async () => {
		const outcomes = await expectEveryOrder(
			[removed(null), seen("105")],
			// seen first: the removal is of the deposit's own block, 105, and reverses it
			(o) =>
				o.balance === "0.00000000" &&
				(o.status === "reversed" || (o.status === "held" && o.hold_reason === "reinclusion_unproven")),
		);
		expect(outcomes[0]).toMatch(/^removed@null → seen@105:12: .*"held"/);
	});
});

describe("two blocks at once", () => {
	it("holds while two blocks are live, and settles once the removal of one arrives", async () => {
		const user = await createUser();
		const base = await depositMessage({ user_id: user, amount: "25.5" });
		await deliver([message(base, seen("100"))]);
		await deliver([message(base, seen("105", 14))]);
		const [held] = await sql().query(
			"SELECT status::text, hold_reason, hold_detail->'candidates' AS candidates FROM deposits WHERE id = $1",
			[base.tx_id],
		);
		expect(held).toEqual({ status: "held", hold_reason: "block_disagreement", candidates: { "105": 14 } });
		expect(await balance(user)).toBe("25.50000000"); // what was booked stays booked
		await checkLedger([base.tx_id]);
		await deliver([message(base, removed("100"))]);
		expect(await state(base.tx_id, user)).toEqual({
			status: "credited",
			inclusion: 2,
			hold_reason: null,
			balance: "25.50000000",
		});
		await checkLedger([base.tx_id]);
	});

	it("goes back to the first block when the other one is the one removed", async () => {
		const user = await createUser();
		const base = await depositMessage({ user_id: user, amount: "25.5", confirmations: 3, status: "pending" });
		await deliver([message(base, seen("100", 3))]);
		await deliver([message(base, seen("105", 2))]);
		expect(await state(base.tx_id, user)).toMatchObject({
			status: "held",
			hold_reason: "block_disagreement",
		});
		await deliver([message(base, removed("105"))]);
		expect(await state(base.tx_id, user)).toEqual({
			status: "pending",
			inclusion: 1,
			hold_reason: null,
			balance: "0.00000000",
		});
		await deliver([message(base, seen("100", 12))]);
		expect(await state(base.tx_id, user)).toMatchObject({ status: "credited", inclusion: 1 });
		await checkLedger([base.tx_id]);
	});
});
