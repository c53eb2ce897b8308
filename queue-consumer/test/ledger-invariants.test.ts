/**
 * The ledger-invariant checker (schema/ledger-invariants.ts) finds each kind of damage:
 * a checker that cannot fail would prove nothing. Each test settles a clean ledger through the
 * consumer, damages it by hand, and expects the matching invariant to be reported.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
	checkLedgerInvariants,
	formatLedgerReport,
	type InvariantName,
} from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { again, createUser, deliver, depositMessage, sql } from "./support/consumer";

const query = ledgerQuery(env);

async function settled() {
	const user = await createUser();
	const credited = await depositMessage({ user_id: user, amount: "10" });
	const reversed = await depositMessage({ user_id: user, amount: "4" });
	await deliver([credited, reversed]);
	await deliver([again(reversed, { status: "removed" })]);
	return { user, credited, reversed };
}

async function violated(accepted: string[] = []): Promise<InvariantName[]> {
	const report = await checkLedgerInvariants(query, { acceptedTxIds: accepted });
	expect(report.ok).toBe(report.violations.length === 0);
	return [...new Set(report.violations.map((v) => v.invariant))];
}

beforeEach(async () => {
	await resetDatabase(env);
});
afterEach(async () => {
	// Restored if a test dropped it.
	await sql().query(
		"CREATE UNIQUE INDEX IF NOT EXISTS uq_transactions_deposit_credit ON transactions (related_id) WHERE tx_type = 'deposit' AND related_entity = 'deposit'",
	);
});

describe("checkLedgerInvariants", () => {
	it("passes a ledger settled by the consumer and reports its totals", async () => {
		const { credited, reversed } = await settled();
		const report = await checkLedgerInvariants(query, { acceptedTxIds: [credited.tx_id, reversed.tx_id] });
		expect(report).toMatchObject({
			ok: true,
			violations: [],
			currencies: [{ currency: "USDT", credited: "14.00000000", reversed: "4.00000000", net: "10.00000000" }],
			walletTotal: "10.00000000",
			deposits: { credited: 1, reversed: 1 },
			accepted: 2,
		});
		expect(formatLedgerReport(report)).toContain("ledger invariants hold");
	});

	it("finds a wallet that disagrees with the ledger", async () => {
		const { user } = await settled();
		await sql().query(
			"UPDATE wallets SET deposit_balance = deposit_balance + 0.00000001 WHERE user_id = $1",
			[user],
		);
		expect(await violated()).toEqual(["balance"]);
	});

	it("finds a negative ledger amount", async () => {
		const { user, reversed } = await settled();
		await sql().query(
			"UPDATE transactions SET amount = -amount WHERE related_id = $1 AND tx_type = 'deposit_reversal'",
			[reversed.tx_id],
		);
		await sql().query("UPDATE wallets SET deposit_balance = 18 WHERE user_id = $1", [user]);
		expect(await violated()).toEqual(expect.arrayContaining(["non_negative", "ledger_matches_deposits"]));
	});

	it("finds a deposit credited twice where no index forbids it", async () => {
		const { user, credited } = await settled();
		await sql().query("DROP INDEX uq_transactions_deposit_credit");
		await sql().query(
			"INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id) VALUES ($1, 'deposit', 10, 'deposit', $2)",
			[user, credited.tx_id],
		);
		await sql().query("UPDATE wallets SET deposit_balance = 20 WHERE user_id = $1", [user]);
		expect(await violated()).toEqual(expect.arrayContaining(["single_credit", "ledger_matches_deposits"]));
		await sql().query("DELETE FROM transactions WHERE related_id = $1 AND tx_type = 'deposit'", [
			credited.tx_id,
		]);
	});

	it("finds a deposit whose status and ledger rows disagree", async () => {
		const { credited } = await settled();
		await sql().query("UPDATE deposits SET status = 'pending' WHERE id = $1", [credited.tx_id]);
		expect(await violated()).toEqual(["ledger_matches_deposits"]);
	});

	it("finds a user who owes a shortfall but is still active", async () => {
		const { user, reversed } = await settled();
		await sql().query(
			"INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency) VALUES ($1, $2, 1, 'USDT')",
			[reversed.tx_id, user],
		);
		expect(await violated()).toEqual(expect.arrayContaining(["shortfall_frozen"]));
	});

	it("finds an accepted webhook that is neither settled nor dead-lettered", async () => {
		const { credited } = await settled();
		const lost = crypto.randomUUID();
		const report = await checkLedgerInvariants(query, { acceptedTxIds: [credited.tx_id, lost] });
		expect(report.violations).toEqual([
			{
				invariant: "accounted",
				detail: `accepted webhook ${lost} is neither in deposits nor in dead_letters`,
			},
		]);
		expect(formatLedgerReport(report)).toContain(`[accounted] accepted webhook ${lost}`);
	});
});
