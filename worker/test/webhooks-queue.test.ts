import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { TEST_LEGACY_SECRET } from "../../test/projects";
import { resetDatabase, testDatabase } from "../../test/support/database";
import { testBindings } from "../../test/support/test-bindings";
import { legacySignature, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { app } from "../src/app";

/** Polls `deposits` until every id is there or the deadline passes; returns what it found. */
async function waitForDeposits(ids: string[], timeoutMs = 15_000) {
	const { sql } = testDatabase(testBindings);
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const rows = (await sql.query("SELECT id, webhook_id FROM deposits WHERE id = ANY($1::uuid[])", [
			ids,
		])) as {
			id: string;
			webhook_id: string;
		}[];
		if (rows.length === ids.length || Date.now() > deadline)
			return new Map(rows.map((r) => [r.id, r.webhook_id]));
		await new Promise((resolve) => setTimeout(resolve, 100));
	}
}

describe("accepted webhooks travel through the real local queue", () => {
	beforeEach(async () => {
		await resetDatabase(testBindings);
	});
	afterEach(() => {
		vi.restoreAllMocks();
	});

	it("each 202's tx_id arrives at the consumer with the sender's webhook id", async () => {
		const sent = new Map<string, string>();
		for (let i = 0; i < 5; i++) {
			const id = `msg_queue_${i}_${crypto.randomUUID()}`;
			const res = await exports.default.fetch(new Request(WEBHOOK_URL, signedInit(watcherDeposit(), { id })));
			expect(res.status).toBe(202);
			sent.set(((await res.json()) as { tx_id: string }).tx_id, id);
		}
		const arrived = await waitForDeposits([...sent.keys()]);
		expect(arrived).toEqual(sent);
	});

	it("a legacy-signed webhook arrives with its deterministic legacy: id", async () => {
		const body = JSON.stringify(watcherDeposit());
		const res = await exports.default.fetch(
			new Request(WEBHOOK_URL, {
				method: "POST",
				headers: {
					"content-type": "application/json",
					"x-signature": await legacySignature(TEST_LEGACY_SECRET, body),
				},
				body,
			}),
		);
		expect(res.status).toBe(202);
		const { tx_id } = (await res.json()) as { tx_id: string };
		const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)));
		const expected = `legacy:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
		expect((await waitForDeposits([tx_id])).get(tx_id)).toBe(expected);
	});

	it("at load, a sender whose message the queue refuses gets 503 with Retry-After, and its retry is accepted and settled", async () => {
		vi.spyOn(console, "error").mockImplementation(() => {});
		// Stand-in for an overloaded queue (it cannot be overloaded locally): every third send is
		// refused as Queues refuses one, the others go onto the real local queue.
		let sends = 0;
		const taken: string[] = [];
		const overloaded = {
			async send(body: { tx_id: string }, options?: QueueSendOptions) {
				if (++sends % 3 === 0) throw new Error("Queue send failed: Too Many Requests");
				await env.DEPOSITS.send(body, options);
				taken.push(body.tx_id);
			},
		} as unknown as Queue;
		const bodies = Array.from({ length: 150 }, () => JSON.stringify(watcherDeposit()));
		const answers = await Promise.all(
			bodies.map(async (body) => {
				const res = await app.request(WEBHOOK_URL, signedInit(body), { ...env, DEPOSITS: overloaded });
				return {
					body,
					status: res.status,
					retryAfter: res.headers.get("retry-after"),
					json: await res.json(),
				};
			}),
		);
		const accepted = answers.filter((a) => a.status === 202);
		const refused = answers.filter((a) => a.status === 503);
		expect(accepted.length + refused.length).toBe(bodies.length);
		expect(refused.length).toBe(50);
		for (const r of refused) {
			expect(r.retryAfter).toBe("5");
			expect(r.json).toMatchObject({ ok: false, error: { code: "service_unavailable" } });
		}
		// A 202 is given exactly for what the queue took.
		expect(accepted.map((a) => (a.json as { tx_id: string }).tx_id).sort()).toEqual([...taken].sort());

		// The refused senders retry (same body, a new delivery) once the queue has room again.
		const retried = await Promise.all(
			refused.map(async (r) => {
				const res = await exports.default.fetch(new Request(WEBHOOK_URL, signedInit(r.body)));
				expect(res.status).toBe(202);
				return ((await res.json()) as { tx_id: string }).tx_id;
			}),
		);
		const all = [...taken, ...retried];
		expect(new Set(all).size).toBe(bodies.length);
		expect((await waitForDeposits(all, 30_000)).size).toBe(bodies.length);
	});
});
