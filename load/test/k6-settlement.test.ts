/**
 * The k6 script's end-of-run settlement check, run on k6's documented primitives given here
 * (k6 is not an npm package): `http.batch` answers as `GET /api/v1/transactions/:tx_id` does,
 * from a ledger that credits deposits over time. The check must poll until every deposit is
 * credited, find them by the tx_id the edge computes, and report what stays uncredited.
 */
import { describe, expect, it, vi } from "vitest";

const recorded = { settled: [] as number[], notCredited: 0, missing: 0 };
const ledger = new Map<string, string>();
let polls = 0;
/** Called on each poll: lets a test move deposits forward between polls. */
let onPoll: (poll: number) => void = () => {};

vi.mock("k6", () => ({ sleep: () => {} }));
vi.mock("k6/crypto", async () => {
	const { createHash } = await import("node:crypto");
	return {
		default: {
			sha1: (bytes: ArrayBuffer) => {
				const d = createHash("sha1").update(new Uint8Array(bytes)).digest();
				return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
			},
		},
	};
});
vi.mock("k6/metrics", () => {
	class Metric {
		constructor(readonly name: string) {}
		add(value: number) {
			if (this.name === "deposits_settled") recorded.settled.push(value);
			if (this.name === "deposits_not_credited") recorded.notCredited += value;
			if (this.name === "deposits_missing") recorded.missing += value;
		}
	}
	return { Counter: Metric, Rate: Metric, Trend: Metric };
});
vi.mock("k6/http", () => ({
	default: {
		expectedStatuses: () => ({}),
		batch: (requests: [string, string, null, { headers: Record<string, string> }][]) => {
			onPoll(++polls);
			return requests.map(([, url, , params]) => {
				if (params.headers.authorization !== "Bearer admin-token") return { status: 401, json: () => ({}) };
				const status = ledger.get(url.split("/").pop() ?? "");
				return status
					? { status: 200, json: () => ({ status }) }
					: { status: 404, json: () => ({ ok: false }) };
			});
		},
	},
}));

const { DepositPlan } = await import("../k6/lib/deposit-plan");
const { checkSettlement, depositsToCheck } = await import("../k6/lib/settlement");
const { depositTxId } = await import("../../schema/tx-id");

const plan = new DepositPlan({
	runId: "k6check",
	chain: "bep20",
	userIds: ["9f1c2d3e-0000-4000-8000-000000000001"],
	duplicateShare: 0.1,
	stagedShare: 0.2,
	requiredConfirmations: 12,
});
const check = {
	baseUrl: "https://staging.example",
	adminToken: "admin-token",
	chain: "bep20",
	timeoutSeconds: 30,
};

function reset() {
	ledger.clear();
	polls = 0;
	recorded.settled = [];
	recorded.notCredited = 0;
	recorded.missing = 0;
}

describe("k6 settlement check", () => {
	it("checks the deposits the run created: every iteration that is not a redelivery", () => {
		const deposits = depositsToCheck(plan, 300, 0);
		expect(deposits.every((i) => plan.createsDeposit(i))).toBe(true);
		expect(deposits.length).toBe(
			[...Array(300).keys()].filter((i) => plan.kindOf(i) !== "redelivery").length,
		);
		expect(depositsToCheck(plan, 300, 50)).toHaveLength(50);
	});

	it("polls until every deposit is credited, finding each by the edge's tx_id", async () => {
		reset();
		const deposits = depositsToCheck(plan, 120, 0);
		const ids = await Promise.all(deposits.map((d) => depositTxId("bep20", plan.txHash(d), 0)));
		// First poll: half pending, half unknown yet; from the third chunk on, all credited.
		ids.forEach((id, k) => {
			if (k % 2 === 0) ledger.set(id, "pending");
		});
		onPoll = (poll) => {
			if (poll > Math.ceil(ids.length / 50)) for (const id of ids) ledger.set(id, "credited");
		};
		const unsettled = checkSettlement(plan, deposits, check);
		expect(unsettled).toEqual([]);
		expect(recorded.settled).toHaveLength(deposits.length);
		expect(recorded.settled.every((v) => v === 1)).toBe(true);
	});

	it("reports what is still not credited at the deadline, apart from what is unknown", async () => {
		reset();
		const deposits = depositsToCheck(plan, 40, 0);
		const ids = await Promise.all(deposits.map((d) => depositTxId("bep20", plan.txHash(d), 0)));
		for (const [k, id] of ids.entries()) ledger.set(id, k === 0 ? "unmatched" : "credited");
		ledger.delete(ids[1] as string);
		onPoll = () => {};
		const unsettled = checkSettlement(plan, deposits, { ...check, timeoutSeconds: 0 });
		expect(unsettled.map((u) => u.status).sort()).toEqual(["missing", "unmatched"]);
		expect(recorded.notCredited).toBe(1);
		expect(recorded.missing).toBe(1);
		expect(recorded.settled.filter((v) => v === 0)).toHaveLength(2);
	});

	it("stops with a clear message when the admin token is refused", () => {
		reset();
		expect(() => checkSettlement(plan, [0], { ...check, adminToken: "expired" })).toThrow(/ADMIN_TOKEN/);
	});
});
