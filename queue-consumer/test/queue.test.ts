/**
 * Through the real local queue: messages sent with the DEPOSITS producer are batched by the
 * queue and delivered to the consumer Worker, which acks or retries them; what the queue gives
 * up on reaches the dead-letter queue and, through the consumer, the `dead_letters` table.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DepositMessage } from "../../schema/queue-message";
import { resetDatabase } from "../../test/support/database";
import { again, balance, checkLedger, createUser, depositMessage, faults, sql } from "./support/consumer";

beforeEach(async () => {
	await faults.clear();
	await resetDatabase(env);
});
afterEach(async () => {
	await faults.clear();
	await faults.quiet();
});

async function send(messages: DepositMessage[]) {
	for (let i = 0; i < messages.length; i += 100) {
		await env.DEPOSITS.sendBatch(messages.slice(i, i + 100).map((body) => ({ body, contentType: "json" })));
	}
}

/** Waits until each tx_id is in a final place: a settled deposit or a dead letter. */
async function waitUntilSettled(txIds: string[], settled: string[], timeout = 25_000) {
	await vi.waitFor(
		async () => {
			const [row] = await sql().query(
				`SELECT count(*)::int AS n FROM unnest($1::uuid[]) AS a(id)
				 WHERE EXISTS (SELECT 1 FROM deposits d WHERE d.id = a.id AND d.status::text = ANY($2::text[]))
				    OR EXISTS (SELECT 1 FROM dead_letters l WHERE l.tx_id = a.id)`,
				[`{${txIds.join(",")}}`, `{${settled.join(",")}}`],
			);
			expect((row as { n: number }).n).toBe(txIds.length);
		},
		{ timeout, interval: 100 },
	);
}

describe("the real queue", () => {
	it("delivers to the consumer, which credits each deposit once however often it was sent", async () => {
		const users = [await createUser(), await createUser()];
		const deposits = await Promise.all(
			Array.from({ length: 30 }, (_, i) => depositMessage({ user_id: users[i % 2]!, amount: `${i + 1}.25` })),
		);
		const pending = deposits.map((d) => again(d, { confirmations: 2, status: "pending" }));
		await send([...pending, ...deposits, ...deposits.slice(0, 10)]);
		await waitUntilSettled(
			deposits.map((d) => d.tx_id),
			["credited"],
		);
		// 1.25 + 3.25 + ... + 29.25 and 2.25 + 4.25 + ... + 30.25
		expect(await balance(users[0]!)).toBe("228.75000000");
		expect(await balance(users[1]!)).toBe("243.75000000");
		await checkLedger(deposits.map((d) => d.tx_id));
	});

	it("ends every message settled or dead-lettered while the database fails on a share of requests", async () => {
		const users = [await createUser(), await createUser(), await createUser()];
		const deposits = await Promise.all(
			Array.from({ length: 40 }, (_, i) => depositMessage({ user_id: users[i % 3]!, amount: `${i + 1}` })),
		);
		await faults.set({ errorRate: 0.3, timeoutRate: 0, dropAfterCommitRate: 0.2, seed: 3 });
		// Small sends apart from each other, so the queue makes many batches.
		const messages = [...deposits, ...deposits.slice(0, 20)];
		for (let i = 0; i < messages.length; i += 5) {
			await send(messages.slice(i, i + 5));
			await new Promise((r) => setTimeout(r, 60));
		}
		// Some batches may exhaust their retries: those end in the dead-letter table.
		await waitUntilSettled(
			deposits.map((d) => d.tx_id),
			["credited"],
		);
		const stats = await faults.stats();
		expect(stats.errors).toBeGreaterThan(0);
		expect(stats.dropsAfterCommit).toBeGreaterThan(0);
		await faults.clear();
		await faults.quiet();
		await checkLedger(deposits.map((d) => d.tx_id));
	});

	it("moves a message the queue gave up on into the dead-letter table through the dead-letter queue", async () => {
		const m = await depositMessage({ user_id: await createUser() });
		// Every settlement of this message from the main queue fails (3 retries), then the
		// dead-letter queue takes it, and the consumer's write of the dead letter goes through.
		// Only this message's settlement fails: copies other tests left in the queue, and this
		// test's own queries, are untouched.
		await faults.set({
			errorRate: 1,
			timeoutRate: 0,
			dropAfterCommitRate: 0,
			onlyIfBodyIncludes: [m.tx_id, "INSERT INTO deposits"],
		});
		await send([m]);
		await waitUntilSettled([m.tx_id], []);
		expect((await faults.stats()).errors).toBe(4);
		const letters = await sql().query("SELECT tx_id, source, body FROM dead_letters WHERE tx_id = $1", [
			m.tx_id,
		]);
		expect(letters).toEqual([{ tx_id: m.tx_id, source: "queue_dlq", body: m }]);
		expect(await sql().query("SELECT 1 FROM deposits WHERE id = $1", [m.tx_id])).toEqual([]);
		await checkLedger([m.tx_id]);
	});
});
