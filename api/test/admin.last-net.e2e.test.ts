/**
 * The last net end to end: a message the consumer kept in R2 (`LAST_NET`) because Postgres
 * could not take it on the dead-letter queue's last deliveries is listed for admins, redriven
 * through the real dead-letter queue into `dead_letters` by the real consumer, audited, and
 * from there redriven as any dead letter; a database still down moves nothing (503); players are refused.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { randomTxHash } from "../../test/support/webhooks";
import {
	adminWithToken,
	auditRow,
	call,
	expectError,
	json,
	registerUser,
	sql,
	userWithToken,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
	const listed = await env.LAST_NET.list();
	if (listed.objects.length) await env.LAST_NET.delete(listed.objects.map((o) => o.key));
});

/** What the consumer writes (queue-consumer/src/dead-letter-queue.ts), for a valid deposit. */
async function keptInLastNet(userId: string, amount = "12.5") {
	const messageId = `msg-${crypto.randomUUID()}`;
	const body = {
		v: 1,
		tx_id: crypto.randomUUID(),
		chain: "bep20",
		tx_hash: randomTxHash(),
		log_index: 0,
		amount,
		currency: "USDT",
		confirmations: 15,
		status: "confirmed",
		to_address: null,
		user_id: userId,
		block_number: "123",
		metadata: null,
		webhook_id: "wh-last-net",
		received_at: "2026-11-01T10:00:00.000Z",
	};
	const key = `deposits-dlq/${messageId}.json`;
	await env.LAST_NET.put(
		key,
		JSON.stringify({
			v: 1,
			queue: "deposits-dlq",
			message_id: messageId,
			attempts: 100,
			enqueued_at: "2026-11-01T10:00:01.000Z",
			stored_at: "2026-11-02T09:00:00.000Z",
			reason: "Postgres could not take this dead letter on delivery 100: fetch failed",
			body,
		}),
	);
	return { key, body };
}

describe("the last net", () => {
	it("lists what waits there, redrives it into the dead letters, audited, from where it redrives as any dead letter", async () => {
		const player = await registerUser();
		const admin = await adminWithToken();
		const kept = await keptInLastNet(player.id);

		const list = await call("/api/v1/admin/last-net", { token: admin.token });
		expect(list.status).toBe(200);
		expect(await json(list)).toMatchObject({
			items: [
				{ key: kept.key, queue: "deposits-dlq", tx_id: kept.body.tx_id, attempts: 100, body: kept.body },
			],
			next_cursor: null,
		});

		const redriven = await call("/api/v1/admin/last-net/redrive", { token: admin.token, method: "POST" });
		expect(redriven.status).toBe(202);
		const answer = await json(redriven);
		expect(answer).toMatchObject({ ok: true, redriven: 1, remaining: false });
		expect(await env.LAST_NET.get(kept.key)).toBeNull();
		const audit = await auditRow(answer.audit_log_id);
		expect(audit).toMatchObject({
			admin_id: admin.id,
			action: "last_net.redrive",
			details: { keys: [kept.key], tx_ids: [kept.body.tx_id] },
		});

		// The real dead-letter queue and consumer store it as a dead letter …
		const letter = await vi.waitFor(
			async () => {
				const [row] = await sql().query("SELECT id, source, body FROM dead_letters WHERE tx_id = $1", [
					kept.body.tx_id,
				]);
				expect(row).toBeDefined();
				return row as { id: string; source: string; body: unknown };
			},
			{ timeout: 15_000, interval: 100 },
		);
		expect(letter).toMatchObject({ source: "queue_dlq", body: kept.body });
		// … which redrives as any dead letter does (admin.happy.test.ts follows that onto the queue).
		const again = await call(`/api/v1/admin/dead-letters/${letter.id}/redrive`, {
			token: admin.token,
			method: "POST",
		});
		expect(again.status).toBe(202);
		expect(await json(again)).toMatchObject({ ok: true, tx_id: kept.body.tx_id });
		expect(await json(await call("/api/v1/admin/last-net", { token: admin.token }))).toEqual({
			items: [],
			next_cursor: null,
		});
	});

	it("moves nothing while the database is still down (503, the object stays)", async () => {
		const player = await registerUser();
		const admin = await adminWithToken();
		const kept = await keptInLastNet(player.id);
		vi.spyOn(console, "error").mockImplementation(() => {});
		const res = await call("/api/v1/admin/last-net/redrive", {
			token: admin.token,
			method: "POST",
			envOverrides: { NEON_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" },
		});
		await expectError(res, 503, "service_unavailable");
		expect(res.headers.get("retry-after")).toBeTruthy();
		expect(await env.LAST_NET.get(kept.key)).not.toBeNull();
	});

	it("is for admins only", async () => {
		const { token } = await userWithToken();
		const res = await call("/api/v1/admin/last-net", { token });
		expect([401, 403]).toContain(res.status);
		const redrive = await call("/api/v1/admin/last-net/redrive", { token, method: "POST" });
		expect([401, 403]).toContain(redrive.status);
		expect(await call("/api/v1/admin/last-net")).toHaveProperty("status", 401);
	});
});
