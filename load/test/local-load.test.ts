/**
 * The local load run, small: its own stack (wrangler dev with the three Workers, the local queue,
 * the Neon driver, Postgres), 200 signed webhooks with 10 % redeliveries and staged deposits
 * (some out of order). Everything must be accepted, every deposit credited exactly once with
 * its exact amount, and the ledger invariants must hold. The figures are printed, not asserted
 * (speed is the README's business, not a test's).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { formatFigures } from "../local/report";
import { type LocalLoadOptions, type LocalLoadResult, runLocalLoad } from "../local/run";

const options: LocalLoadOptions = {
	// A fresh database on the run's Postgres when there is one, else embedded.
	postgresUrl: process.env.TEST_DATABASE_URL || undefined,
	webhooks: 200,
	duplicateShare: 0.1,
	stagedShare: 0.2,
	// Correctness, not speed: a gentle rate and room for every request, so a test run that
	// shares the machine with other suites never drops or times out a valid webhook.
	rate: 50,
	maxInFlight: 1024,
	players: 20,
	requestTimeoutMs: 30_000,
	settleTimeoutMs: 45_000,
	requiredConfirmations: 12,
};

let result: LocalLoadResult;

beforeAll(async () => {
	result = await runLocalLoad(options);
	console.log(formatFigures(result, options).join("\n"));
}, 120_000);

describe("local load run (200 webhooks, 10 % redeliveries)", () => {
	it("sent the planned mix: redeliveries and staged deposits among 200 webhooks", () => {
		expect(result.webhooks).toBe(200);
		expect(result.redeliveries).toBeGreaterThan(5);
		expect(result.staged).toBeGreaterThan(5);
		expect(result.deposits).toBe(200 - result.redeliveries - result.staged);
	});

	it("answered 202 with the deposit's own tx_id to every webhook", () => {
		expect(result.statuses).toEqual({ "202": 200 });
		expect(result.non2xx).toBe(0);
		expect(result.wrongTxIds).toBe(0);
	});

	it("credited every deposit exactly once, with its exact amount, to its player", () => {
		expect(result.settled).toBe(true);
		const e = result.exactlyOnce;
		expect(e.accepted).toBe(result.deposits);
		expect(e.credited).toBe(result.deposits);
		expect(e.creditRows).toBe(result.deposits);
		expect(e.creditedTwice).toBe(0);
		expect(e.wrongAmount).toBe(0);
		expect(e.creditedTotal).toBe(e.acceptedTotal);
		expect(e.walletTotal).toBe(e.acceptedTotal);
		expect(e.ok).toBe(true);
	});

	it("leaves the ledger invariants holding, every accepted webhook accounted for", () => {
		expect(result.invariants.violations).toEqual([]);
		expect(result.invariants.accepted).toBe(result.deposits);
		expect(result.invariants.deposits).toMatchObject({ credited: result.deposits });
	});

	it("measured settle lag for every deposit", () => {
		expect(result.settlePoints).toHaveLength(result.deposits);
		expect(result.ackPoints).toHaveLength(200);
	});
});
