/**
 * The backfill's rules (legacy-deposits.ts) on records of every kind the original leaves: what
 * becomes a credited or pending deposit, with this system's key and id, and what is parked and why.
 */
import { describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import {
	type LegacyRecord,
	legacyChain,
	type MappingOptions,
	mapLegacyDeposits,
} from "../adopt/legacy-deposits";

const USER = "2b0c8e54-2a3c-4f5e-9d0f-1a2b3c4d5e6f";
const OTHER = "9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f";
const HASH = `0x${"ab".repeat(32)}`;

let ids = 0;
function row(overrides: Partial<LegacyRecord> = {}): LegacyRecord {
	ids++;
	return {
		source: "transactions",
		id: `00000000-0000-4000-8000-${String(ids).padStart(12, "0")}`,
		userId: USER,
		amount: "25.50000000",
		currency: "USDT",
		txHash: HASH,
		chain: "bep20",
		logIndex: null,
		confirmations: 12,
		blockNumber: 41000000,
		toAddress: null,
		credited: true,
		createdAt: "2025-09-20T10:00:00.000Z",
		creditedAt: "2025-09-20T10:01:00.000Z",
		...overrides,
	};
}

const request = (overrides: Partial<LegacyRecord> = {}) =>
	row({
		source: "deposit_requests",
		chain: "BEP20",
		confirmations: null,
		blockNumber: null,
		requestStatus: "approved",
		...overrides,
	});

const options = (existing: string[] = []): MappingOptions => ({
	walletCurrency: "USDT",
	thresholds: { bep20: 12, erc20: 12, trc20: 19 },
	heldAvailable: true,
	existing: async (candidates) => new Set(candidates.filter((c) => existing.includes(c))),
});

describe("mapLegacyDeposits", () => {
	it("makes a credited row a credited deposit under the id the edge gives its webhook, linked as its credit", async () => {
		const r = row({ txHash: `  ${HASH.toUpperCase().replace("0X", "0x")} ` });
		const { deposits, decisions } = await mapLegacyDeposits([r], options());
		const id = await depositTxId("bep20", HASH, 0);
		expect(deposits).toEqual([
			expect.objectContaining({
				id,
				chain: "bep20",
				txHash: HASH,
				logIndex: 0,
				status: "credited",
				userId: USER,
				requiredConfirmations: 3,
			}),
		]);
		expect(decisions).toEqual([
			expect.objectContaining({ outcome: "credited", depositId: id, action: "link" }),
		]);
	});

	it("makes an uncredited row a pending deposit of its user, waiting for this system's threshold, and supersedes the row", async () => {
		const { deposits, decisions } = await mapLegacyDeposits(
			[row({ credited: false, confirmations: 1 })],
			options(),
		);
		expect(deposits[0]).toMatchObject({
			status: "pending",
			userId: USER,
			confirmations: 1,
			requiredConfirmations: 12,
		});
		expect(decisions[0]).toMatchObject({ outcome: "pending", action: "supersede" });
	});

	it("maps an approved request alone with a ledger row, and with its agreeing row as one deposit", async () => {
		const alone = await mapLegacyDeposits([request()], options());
		expect(alone.deposits).toEqual([expect.objectContaining({ status: "credited", chain: "bep20" })]);
		expect(alone.decisions).toEqual([expect.objectContaining({ outcome: "credited", action: "ledger_row" })]);

		const both = await mapLegacyDeposits([row(), request()], options());
		expect(both.deposits).toHaveLength(1);
		expect(both.decisions.map((d) => [d.record.source, d.action])).toEqual([
			["transactions", "link"],
			["deposit_requests", "none"],
		]);

		// Approved while the webhook row still waited: credited once, by the request.
		const late = await mapLegacyDeposits([row({ credited: false }), request()], options());
		expect(late.deposits[0]).toMatchObject({ status: "credited" });
		expect(late.decisions.map((d) => d.action)).toEqual(["supersede", "ledger_row"]);
	});

	it("parks what cannot be told, and holds the key where there is one", async () => {
		const cases: [LegacyRecord[], RegExp][] = [
			[[row({ txHash: null })], /no transaction hash/],
			[[row({ txHash: "0x1234" })], /not a bep20 transaction hash/],
			[[row({ chain: "polygon" })], /chain "polygon"/],
			[[row({ userId: null })], /no user/],
			[[row({ amount: "0.00000000" })], /not positive/],
			[[row({ currency: "BUSD" })], /currency BUSD/],
			[[row(), row()], /2 deposit rows/],
			[[row(), request({ userId: OTHER })], /different users/],
			[[row(), request({ amount: "99" })], /says 25.50000000 and its request 99/],
		];
		for (const [records, reason] of cases) {
			const { deposits, decisions } = await mapLegacyDeposits(records, options());
			expect(decisions.every((d) => d.outcome === "parked" && d.action === "none")).toBe(true);
			expect(decisions[0]!.reason).toMatch(reason);
			// A key that exists is held: a webhook for it is never credited until an operator decides.
			expect(deposits.every((d) => d.status === "held" && d.userId === null)).toBe(true);
		}
	});

	it("parks a record whose deposit this system already holds, without touching that deposit", async () => {
		const id = await depositTxId("bep20", HASH, 0);
		const { deposits, decisions } = await mapLegacyDeposits([row()], options([id]));
		expect(deposits).toEqual([]);
		expect(decisions[0]).toMatchObject({
			outcome: "parked",
			depositId: null,
			reason: expect.stringMatching(/already holds/),
		});
	});

	it("skips pending and rejected requests: a claim is not a credit", async () => {
		const { deposits, decisions } = await mapLegacyDeposits(
			[
				request({ requestStatus: "pending" }),
				request({ requestStatus: "rejected", txHash: `0x${"cd".repeat(32)}` }),
			],
			options(),
		);
		expect(deposits).toEqual([]);
		expect(decisions.map((d) => d.outcome)).toEqual(["skipped", "skipped"]);
	});

	it("keys TRON deposits without 0x, and reads the original's chain spellings", async () => {
		const tron = await mapLegacyDeposits(
			[row({ chain: "TRC20", txHash: `0x${"ef".repeat(32)}` })],
			options(),
		);
		expect(tron.deposits[0]).toMatchObject({ chain: "trc20", txHash: "ef".repeat(32) });
		expect(["BEP20", "bep-20", "BEP_20", null].map(legacyChain)).toEqual([
			"bep20",
			"bep20",
			"bep20",
			"bep20",
		]);
		expect(["BSC", "polygon", ""].map(legacyChain)).toEqual([null, null, null]);
	});
});
