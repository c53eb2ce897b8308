/**
 * The consumer's cron trigger counts what waits for an operator in Postgres and writes it as
 * one `ledger` data point (schema/metrics.ts LEDGER), read by the alert rules; a database that
 * cannot answer writes nothing and fails nothing.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { LEDGER } from "../../schema/metrics";
import { resetDatabase } from "../../test/support/database";
import worker from "../src/index";
import { createUser, faults, recordingMetrics, sql, txHash } from "./support/consumer";

beforeEach(async () => {
	await faults.clear();
	await resetDatabase(env);
});
afterEach(() => faults.clear());

async function deposit(status: string, minutesAgo: number): Promise<string> {
	const id = crypto.randomUUID();
	await sql().query(
		`INSERT INTO deposits (id, chain, tx_hash, amount, currency, status, required_confirmations, first_seen_at)
		 VALUES ($1, 'bep20', $2, 5, 'USDT', $3::deposit_state, 12, now() - make_interval(mins => $4))`,
		[id, txHash(), status, minutesAgo],
	);
	return id;
}

async function cron() {
	const metrics = recordingMetrics();
	await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), {
		...env,
		METRICS: metrics.binding,
	});
	return metrics.points.filter((p) => p.blobs[0] === "ledger");
}

const at = (column: string) => Number(column.replace(/^\D+/, "")) - 1;

describe("the ledger gauges", () => {
	it("count the oldest pending deposit's age, each review queue and the spent address pools", async () => {
		const player = await createUser();
		await deposit("pending", 45);
		await deposit("pending", 3);
		await deposit("credited", 90);
		const unmatched = await deposit("unmatched", 10);
		await sql().query(
			"INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload) VALUES ($1, 25, 'USDT', 'msg_other', '{}')",
			[unmatched],
		);
		const reversed = await deposit("reversed", 20);
		await sql().query(
			"INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency) VALUES ($1, $2, 1.5, 'USDT')",
			[reversed, player],
		);
		await sql().query(
			`INSERT INTO dead_letters (message_id, source, reason, redriven_at) VALUES
			 ('m-waiting', 'consumer', 'poison', NULL), ('m-redriven', 'consumer', 'poison', now())`,
		);
		// The EVM pool is spent (its one address issued); the TRON pool still has one.
		await sql().query(
			`INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at) VALUES
			 ('evm', '0x${"ab".repeat(20)}', $1, 'pool', now()),
			 ('tron', 'TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t', NULL, 'pool', NULL)`,
			[player],
		);

		const [point, ...more] = await cron();
		expect(more).toEqual([]);
		expect(point!.blobs[at(LEDGER.worker)]).toBe("consumer");
		expect(point!.blobs[at(LEDGER.emptyPoolFamilies)]).toBe("evm");
		expect(point!.doubles[at(LEDGER.oldestPendingMinutes)]).toBeGreaterThanOrEqual(45);
		expect(point!.doubles[at(LEDGER.oldestPendingMinutes)]).toBeLessThan(46);
		expect(point!.doubles[at(LEDGER.unmatched)]).toBe(1);
		expect(point!.doubles[at(LEDGER.conflicts)]).toBe(1);
		expect(point!.doubles[at(LEDGER.shortfalls)]).toBe(1);
		expect(point!.doubles[at(LEDGER.deadLetters)]).toBe(1);
		expect(point!.doubles[at(LEDGER.emptyPools)]).toBe(1);
	});

	it("write zeros for an empty ledger (no pool imported is no pool in use)", async () => {
		const [point] = await cron();
		expect(point!.blobs[at(LEDGER.emptyPoolFamilies)]).toBe("");
		expect(point!.doubles.slice(0, 6)).toEqual([0, 0, 0, 0, 0, 0]);
	});

	it("write nothing, and fail nothing, while the database cannot answer", async () => {
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0 });
		expect(await cron()).toEqual([]);
	});
});
