import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { TEST_LEGACY_SECRET } from "../../test/projects";
import { resetDatabase, testDatabase } from "../../test/support/database";
import { legacySignature, signedInit, WEBHOOK_URL, watcherDeposit } from "./support/webhooks";

/** Polls `deposits` until every id is there or the deadline passes; returns what it found. */
async function waitForDeposits(ids: string[], timeoutMs = 15_000) {
	const { sql } = testDatabase(env);
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
		await resetDatabase(env);
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
});
