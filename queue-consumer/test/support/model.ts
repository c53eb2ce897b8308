/**
 * A model of settlement, independent of the SQL: given every message sent so far (grouped in
 * "flushes": all of a flush was delivered, in any order, before the next flush began), what the
 * deposits, conflicts and wallets must look like. Where the order inside a flush decides (which
 * amount a new deposit takes, whether a reorg came before or after the credit), the model
 * accepts each possible result and checks the rest against the one the database chose.
 *
 * Reorgs: a message names the block it saw the transfer in (or none). Where every message of a
 * deposit names its block, the deposit lives in the blocks sighted and never removed: one such
 * block is its inclusion (credited once it is final there), none means it was dropped. Where a
 * deposit was removed and some message names no block, the messages cannot tell a redelivery
 * from a re-inclusion: the deposit may be dropped or held, never credited.
 *
 * Deposit addresses: a deposit that names no user belongs to the holder of its address when
 * the address was issued before the deposit was first seen (`addresses`), else to nobody until
 * an admin assigns it.
 *
 * @module
 */
import { expect } from "vitest";
import type { DepositMessage } from "../../../schema/queue-message";
import { sql } from "./consumer";

const SCALE = 8;

/** An exact decimal string as an integer count of 10^-8 units (no floats). */
function toUnits(amount: string): bigint {
	const [whole = "0", fraction = ""] = amount.split(".");
	return BigInt(whole) * 10n ** BigInt(SCALE) + BigInt((fraction + "0".repeat(SCALE)).slice(0, SCALE));
}

function fromUnits(units: bigint): string {
	const s = units.toString().padStart(SCALE + 1, "0");
	return `${s.slice(0, -SCALE)}.${s.slice(-SCALE)}`;
}

interface ModelExpectations {
	thresholds: Record<string, number>;
	/** Users that exist (a message naming another id is unattributable). */
	users: string[];
	/** The wallets' currency (default USDT): deposits in another are never created. */
	walletCurrency?: string;
	/** Chains whose senders may assert finality (SENDER_FINALITY; default none). */
	senderFinality?: string[];
	/**
	 * Issued deposit addresses (stored form): who holds each, and the index of the first flush
	 * delivered after it was issued (deposits first seen in that flush or later are theirs).
	 */
	addresses?: Map<string, { user: string; fromFlush: number }>;
}

type Status = "pending" | "credited" | "unmatched" | "reverted" | "reversed" | "held";

/** What the previous check saw, so that later flushes cannot undo it. */
export type Observed = Map<string, Status>;

interface Row {
	id: string;
	status: Status;
	amount: string;
	currency: string;
	confirmations: number | null;
	user_id: string | null;
}

function isFinal(m: DepositMessage, expectations: ModelExpectations): boolean {
	if (m.status === "removed") return false;
	if (m.confirmations === null) {
		return m.status === "confirmed" && (expectations.senderFinality ?? []).includes(m.chain);
	}
	return m.confirmations >= (expectations.thresholds[m.chain] ?? Number.POSITIVE_INFINITY);
}

/**
 * Checks the database against the model after `flushes` were delivered; returns what it saw,
 * to pass to the next check.
 */
export async function checkAgainstModel(
	flushes: DepositMessage[][],
	expectations: ModelExpectations,
	previous: Observed = new Map(),
): Promise<Observed> {
	const walletCurrency = expectations.walletCurrency ?? "USDT";
	// `first`: the first flush with a message that could create the deposit (wallet currency).
	const byKey = new Map<string, { first: number; messages: DepositMessage[] }>();
	flushes.forEach((flush, index) => {
		for (const m of flush) {
			const entry = byKey.get(m.tx_id) ?? { first: -1, messages: [] };
			entry.messages.push(m);
			if (entry.first < 0 && m.currency === walletCurrency) entry.first = index;
			byKey.set(m.tx_id, entry);
		}
	});
	const ids = [...byKey.keys()];
	const rows = (await sql().query(
		`SELECT id, status::text, amount::text, currency, confirmations, user_id FROM deposits WHERE id = ANY($1::uuid[])`,
		[`{${ids.join(",")}}`],
	)) as Row[];
	const stored = new Map(rows.map((r) => [r.id, r]));
	const conflictRows = (await sql().query(
		"SELECT deposit_id, amount::text, currency FROM deposit_conflicts WHERE deposit_id = ANY($1::uuid[])",
		[`{${ids.join(",")}}`],
	)) as { deposit_id: string; amount: string; currency: string }[];
	const deadLetters = (await sql().query(
		"SELECT tx_id, body->>'amount' AS amount, body->>'currency' AS currency FROM dead_letters WHERE tx_id = ANY($1::uuid[])",
		[`{${ids.join(",")}}`],
	)) as { tx_id: string; amount: string; currency: string }[];
	const deadLettered = new Set(deadLetters.map((l) => `${l.tx_id} ${toUnits(l.amount)} ${l.currency}`));
	const users = new Set(expectations.users);
	const expectedBalance = new Map<string, bigint>(expectations.users.map((u) => [u, 0n]));
	const observed: Observed = new Map();

	for (const [id, { first, messages }] of byKey) {
		const row = stored.get(id);
		const label = `deposit ${id}`;
		if (first < 0) {
			// Only other currencies: no deposit, every message in the dead letters.
			expect(row, `${label}: created in a currency wallets do not hold`).toBeUndefined();
			for (const m of messages) {
				const found = deadLettered.has(`${id} ${toUnits(m.amount)} ${m.currency}`);
				expect(found, `${label}: ${m.amount} ${m.currency} is not in the dead letters`).toBe(true);
			}
			continue;
		}
		expect(row, `${label} was sent but is not stored`).toBeDefined();
		if (!row) continue;
		// The amount comes from one of the wallet-currency messages of the first flush that had one.
		const candidates = messages.filter((m) => m.currency === walletCurrency && flushes[first]?.includes(m));
		expect(
			candidates.some((m) => toUnits(m.amount) === toUnits(row.amount) && m.currency === row.currency),
			`${label}: stored ${row.amount} ${row.currency} was not sent in its first flush`,
		).toBe(true);
		const agrees = (m: DepositMessage) =>
			toUnits(m.amount) === toUnits(row.amount) && m.currency === row.currency;
		const agreeing = messages.filter(agrees);

		// Every other (amount, currency) is a conflict, recorded once; one in another currency may
		// instead be a dead letter, if it came before the deposit existed.
		const pair = (m: { amount: string; currency: string }) => `${toUnits(m.amount)} ${m.currency}`;
		const others = new Set(messages.filter((m) => !agrees(m)).map(pair));
		const recordedRows = conflictRows.filter((c) => c.deposit_id === id).map(pair);
		const recorded = new Set(recordedRows);
		expect(recorded.size, `${label}: conflicts recorded once each`).toBe(recordedRows.length);
		for (const p of recorded) expect(others, `${label}: conflict ${p} was never sent`).toContain(p);
		for (const m of messages.filter((m) => !agrees(m))) {
			const where = recorded.has(pair(m))
				? "conflict"
				: m.currency !== walletCurrency && deadLettered.has(`${id} ${pair(m)}`)
					? "dead letter"
					: "nowhere";
			expect(where, `${label}: ${pair(m)} is recorded as`).not.toBe("nowhere");
		}

		const before = previous.get(id);
		const removals = agreeing.filter((m) => m.status === "removed");
		const named = [
			...new Set(agreeing.map((m) => m.user_id).filter((u): u is string => !!u && users.has(u))),
		];
		expect(named.length, `${label}: the generator gave it two users`).toBeLessThanOrEqual(1);
		const address = agreeing.find((m) => m.to_address)?.to_address?.toLowerCase();
		const holder = address ? expectations.addresses?.get(address) : undefined;
		// The address credits its holder only for deposits first seen after it was issued.
		const user = named[0] ?? (holder && holder.fromFlush <= first ? holder.user : null);
		const decidable = !removals.length || agreeing.every((m) => m.block_number !== null);
		// The sightings of the inclusion that counts: every one when nothing was removed, else
		// those in the one block sighted and never removed (none: the deposit was dropped).
		const removedBlocks = new Set(removals.map((m) => m.block_number));
		const liveBlocks = new Set(
			agreeing
				.filter((m) => m.status !== "removed" && !removedBlocks.has(m.block_number))
				.map((m) => m.block_number),
		);
		if (removals.length && decidable)
			expect(liveBlocks.size, `${label}: the generator left two blocks live`).toBeLessThanOrEqual(1);
		const live = removals.length
			? agreeing.filter((m) => m.status !== "removed" && liveBlocks.has(m.block_number))
			: agreeing.filter((m) => m.status !== "removed");
		// Parked as unmatched means final (for that inclusion: a re-inclusion starts again).
		const final = live.some((m) => isFinal(m, expectations)) || (before === "unmatched" && !removals.length);
		if (!decidable) {
			// A sighting after a removal that no block number places: dropped or held, never credited.
			expect(["reverted", "reversed", "held"], `${label}: status after an undecidable reorg`).toContain(
				row.status,
			);
		} else if (removals.length && !live.length) {
			expect(["reverted", "reversed"], `${label}: status after a reorg`).toContain(row.status);
		} else if (final && user) {
			expect(row.status, `${label}: status`).toBe("credited");
			expect(row.user_id, `${label}: credited to`).toBe(user);
			expectedBalance.set(user, (expectedBalance.get(user) ?? 0n) + toUnits(row.amount));
		} else if (final) {
			expect(row.status, `${label}: status`).toBe("unmatched");
			expect(row.user_id, `${label}: parked for nobody`).toBeNull();
		} else {
			expect(row.status, `${label}: status`).toBe("pending");
		}
		if (decidable && live.length && row.status !== "reverted" && row.status !== "reversed") {
			const counts = live.map((m) => m.confirmations).filter((c): c is number => c !== null);
			expect(row.confirmations, `${label}: confirmations`).toBe(counts.length ? Math.max(...counts) : null);
		}
		observed.set(id, row.status);
	}

	const wallets = (await sql().query(
		"SELECT user_id, deposit_balance::text AS balance FROM wallets WHERE user_id = ANY($1::uuid[])",
		[`{${expectations.users.join(",")}}`],
	)) as { user_id: string; balance: string }[];
	const actual = Object.fromEntries(wallets.map((w) => [w.user_id, w.balance]));
	const expected = Object.fromEntries([...expectedBalance].map(([u, units]) => [u, fromUnits(units)]));
	expect(actual, "wallet balances").toEqual(expected);
	return observed;
}
