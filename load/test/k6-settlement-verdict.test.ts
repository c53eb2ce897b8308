/**
 * The k6 settlement verdict (load/k6/lib/settlement-verdict.ts) on ledgers a healthy system
 * never produces: a missing credit, a double credit, a wrong amount or player, a reversal,
 * credits the run did not send, a wallet that disagrees with its ledger. Each must fail the
 * verdict and be named; only the ledger that holds exactly the plan passes. The ledgers are
 * built here from the deposit plan, as `GET /api/v1/transactions` answers them.
 */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { DepositPlan } from "../k6/lib/deposit-plan";
import {
	describeVerdict,
	type ExpectedDeposit,
	fromCents,
	judgeSettlement,
	type LedgerRow,
	type PlayerBooks,
	timestampMs,
	toCents,
} from "../k6/lib/settlement-verdict";
import { depositTxId } from "../k6/lib/uuid-v5";

const sha1 = (bytes: ArrayBuffer) => {
	const d = createHash("sha1").update(new Uint8Array(bytes)).digest();
	return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
};

const players = ["9f1c2d3e-0000-4000-8000-000000000001", "9f1c2d3e-0000-4000-8000-000000000002"];
const plan = new DepositPlan({
	runId: "verdict",
	chain: "bep20",
	userIds: players,
	duplicateShare: 0.1,
	stagedShare: 0.2,
	requiredConfirmations: 12,
});

const expected: ExpectedDeposit[] = [...Array(60).keys()]
	.filter((i) => plan.createsDeposit(i))
	.map((i) => ({
		deposit: i,
		txId: depositTxId("bep20", plan.txHash(i), 0, sha1),
		player: i % players.length,
		amount: plan.amount(i),
	}));

const credit = (e: ExpectedDeposit, amount = e.amount, at = "2026-11-30T10:00:00.123456Z"): LedgerRow => ({
	type: "deposit",
	amount: `${amount}000000`,
	related_id: e.txId,
	created_at: at,
	metadata: { chain: "bep20", inclusion: 1 },
});

/** The players' books with the given rows; wallets hold what the rows credit unless told. */
function books(
	rows: { player: number; row: LedgerRow }[],
	wallets: Record<number, string> = {},
): PlayerBooks[] {
	return players.map((_, p) => {
		const own = rows.filter((r) => r.player === p).map((r) => r.row);
		const cents = own.reduce(
			(sum, r) => sum + (r.type === "deposit" ? toCents(r.amount) : -toCents(r.amount)),
			0,
		);
		return {
			username: `load_verdict_${p}`,
			rows: own,
			depositBalance: wallets[p] ?? `${fromCents(cents)}000000`,
		};
	});
}

const exact = () => expected.map((e) => ({ player: e.player, row: credit(e) }));

describe("k6 settlement verdict", () => {
	it("passes when every deposit is credited once, with its amount, to its player, and wallets agree", () => {
		const v = judgeSettlement(expected, books(exact()), false);
		expect(v.ok).toBe(true);
		expect(v.settled.size).toBe(expected.length);
		expect(v.lastCreditAt).toBe(Date.UTC(2026, 10, 30, 10, 0, 0) + 123.456);
	});

	it("fails on a deposit that was never credited, and names it", () => {
		const [first] = expected;
		const v = judgeSettlement(expected, books(exact().slice(1)), false);
		expect(v.ok).toBe(false);
		expect(v.notCredited).toEqual([first?.deposit]);
		expect(v.settled.size).toBe(expected.length - 1);
	});

	it("fails on a deposit credited twice, even when the wallet holds both credits", () => {
		const e = expected[3] as ExpectedDeposit;
		const v = judgeSettlement(expected, books([...exact(), { player: e.player, row: credit(e) }]), false);
		expect(v.ok).toBe(false);
		expect(v.creditedTwice).toEqual([e.deposit]);
		expect(v.walletsMismatched).toEqual([]);
	});

	it("fails on a wrong amount and on a credit to another player", () => {
		const [a, b] = expected as [ExpectedDeposit, ExpectedDeposit];
		const rows = exact().map((r) => {
			if (r.row.related_id === a.txId) return { ...r, row: credit(a, "0.01") };
			if (r.row.related_id === b.txId) return { player: 1 - b.player, row: r.row };
			return r;
		});
		const v = judgeSettlement(expected, books(rows), false);
		expect(v.ok).toBe(false);
		expect(v.wrongAmount).toEqual([a.deposit]);
		expect(v.wrongPlayer).toEqual([b.deposit]);
	});

	it("fails on a reversed deposit", () => {
		const e = expected[5] as ExpectedDeposit;
		const reversal: LedgerRow = {
			type: "deposit_reversal",
			amount: e.amount,
			related_id: e.txId,
			created_at: null,
			metadata: { reason: "reorg", from_deposit: e.amount, from_winning: "0" },
		};
		const v = judgeSettlement(expected, books([...exact(), { player: e.player, row: reversal }]), false);
		expect(v.ok).toBe(false);
		expect(v.reversed).toEqual([e.deposit]);
		expect(v.walletsMismatched).toEqual([]);
	});

	it("fails on a credit the run did not send, unless the players are an earlier run's", () => {
		const stranger: LedgerRow = {
			...credit(expected[0] as ExpectedDeposit),
			related_id: crypto.randomUUID(),
		};
		const rows = [...exact(), { player: 0, row: stranger }];
		const fresh = judgeSettlement(expected, books(rows), false);
		expect(fresh).toMatchObject({ ok: false, unplanned: 1 });
		expect(describeVerdict(fresh, () => "", false)).toContain(
			"1 credit(s) of deposits this run did not send",
		);
		const repeat = judgeSettlement(expected, books(rows), true);
		expect(repeat).toMatchObject({ ok: true, unplanned: 1 });
		expect(describeVerdict(repeat, () => "", true)).toContain(
			"(1 more credits on these players come from an earlier run with this RUN_ID)",
		);
	});

	it("fails when a wallet does not hold what its ledger credits", () => {
		const v = judgeSettlement(expected, books(exact(), { 1: "0.00000000" }), false);
		expect(v.ok).toBe(false);
		expect(v.settled.size).toBe(expected.length);
		expect(v.walletsMismatched).toEqual([
			expect.objectContaining({ username: "load_verdict_1", depositBalance: "0.00000000" }),
		]);
	});

	it("fails when the run sent nothing: there is nothing to vouch for", () => {
		expect(judgeSettlement([], books([]), false).ok).toBe(false);
	});
});

describe("exact amounts and timestamps", () => {
	it("counts whole cents exactly and refuses anything finer or too large to count", () => {
		expect(toCents("12.34000000")).toBe(1234);
		expect(toCents("12.3")).toBe(1230);
		expect(toCents("7")).toBe(700);
		expect(toCents("-0.05")).toBe(-5);
		expect(toCents("12.34000001")).toBeNaN();
		expect(toCents("1e3")).toBeNaN();
		expect(toCents("99999999999999999.00")).toBeNaN();
		expect(fromCents(123456)).toBe("1234.56");
		expect(fromCents(-5)).toBe("-0.05");
	});

	it("reads the API's timestamps to the microsecond's millisecond", () => {
		expect(timestampMs("2026-11-30T10:00:00.000001Z")).toBe(Date.UTC(2026, 10, 30, 10) + 0.001);
		expect(timestampMs("2026-11-30T10:00:00Z")).toBe(Date.UTC(2026, 10, 30, 10));
		expect(timestampMs(null)).toBeNull();
		expect(timestampMs("yesterday")).toBeNull();
	});
});
