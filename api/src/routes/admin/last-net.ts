/**
 * Admin review of the last net: dead-letter-queue messages that Postgres could not take on
 * their last deliveries, kept in the R2 bucket `LAST_NET` by the consumer
 * (queue-consumer/src/dead-letter-queue.ts) so that the queue never deletes them unrecorded.
 *
 * - `GET /last-net?limit=&cursor=`: what waits there, oldest key first (R2 lists by key).
 * - `POST /last-net/redrive?limit=`: up to `limit` (default and most 100) messages put back
 *   on the dead-letter queue (`DEAD_LETTERS`), whose consumer stores them in `dead_letters` now
 *   that the database is back; each object is deleted only after the queue took it. The audit
 *   row is written first, so a database still down answers 503 and nothing moves. A crash
 *   between send and delete sends a message twice: it then has two dead letters, and
 *   settlement's idempotency credits the deposit once whichever is redriven.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../../schema/zod";
import { enqueueAll } from "../../../../shared/deposit-queue";
import { ApiError, serviceUnavailable } from "../../../../shared/http/errors";
import { queryInput } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";

/** What the consumer writes for each message (one JSON object per key). */
interface LastNetRecord {
	v: 1;
	queue: string;
	message_id: string;
	attempts: number;
	enqueued_at: string;
	stored_at: string;
	reason: string;
	body: unknown;
}

const MAX_PAGE = 100;

export const listQuery = z.object({
	limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_PAGE)), 50),
	cursor: z.optional(z.string().check(z.maxLength(1024))),
});

export const redriveQuery = z.object({
	limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_PAGE)), MAX_PAGE),
});

const AUDIT = `
INSERT INTO audit_logs (admin_id, action, details)
SELECT $1, 'last_net.redrive', $2::jsonb WHERE EXISTS (SELECT 1 FROM admins WHERE id = $1)
RETURNING id`;

async function read(bucket: R2Bucket, key: string): Promise<LastNetRecord | null> {
	const object = await bucket.get(key);
	return object ? ((await object.json()) as LastNetRecord) : null;
}

function txIdOf(body: unknown): string | null {
	const id = (body as { tx_id?: unknown } | null)?.tx_id;
	return typeof id === "string" ? id : null;
}

/** R2 itself failing: retryable, nothing changed. */
function storeUnavailable(error: unknown): never {
	console.error("last net unavailable:", error);
	throw serviceUnavailable("the last net (R2) is unavailable; retry later");
}

export const lastNet = new Hono<AuthedEnv>()
	.get("/", async (c) => {
		const query = queryInput(c, listQuery);
		const listed = await c.env.LAST_NET.list({ limit: query.limit, cursor: query.cursor }).catch(
			storeUnavailable,
		);
		const items = [];
		for (const { key } of listed.objects) {
			const record = await read(c.env.LAST_NET, key).catch(storeUnavailable);
			if (!record) continue; // redriven meanwhile
			items.push({
				key,
				queue: record.queue,
				message_id: record.message_id,
				tx_id: txIdOf(record.body),
				attempts: record.attempts,
				reason: record.reason,
				enqueued_at: record.enqueued_at,
				stored_at: record.stored_at,
				body: record.body,
			});
		}
		return c.json({ items, next_cursor: listed.truncated ? listed.cursor : null });
	})
	.post("/redrive", async (c) => {
		const { limit } = queryInput(c, redriveQuery);
		const listed = await c.env.LAST_NET.list({ limit }).catch(storeUnavailable);
		const records: { key: string; record: LastNetRecord }[] = [];
		for (const { key } of listed.objects) {
			const record = await read(c.env.LAST_NET, key).catch(storeUnavailable);
			if (record) records.push({ key, record });
		}
		if (!records.length)
			return c.json({ ok: true as const, redriven: 0, remaining: false, audit_log_id: null });
		const details = {
			keys: records.map((r) => r.key),
			tx_ids: records.map((r) => txIdOf(r.record.body)),
		};
		const [audit] = await database(c.env).query<{ id: string }>(AUDIT, [
			c.var.auth.sub,
			JSON.stringify(details),
		]);
		if (!audit) throw new ApiError("unauthorized", "this admin account no longer exists");
		if (
			!(await enqueueAll(
				c.env.DEAD_LETTERS,
				records.map((r) => r.record.body),
			))
		) {
			throw serviceUnavailable("the dead-letter queue is unavailable; nothing was moved, retry later");
		}
		await c.env.LAST_NET.delete(records.map((r) => r.key)).catch((error) => {
			// Sent but not deleted: the next redrive sends them again (two dead letters, one credit).
			console.error("last net: sent to the dead-letter queue but not deleted:", error);
		});
		return c.json(
			{ ok: true as const, redriven: records.length, remaining: listed.truncated, audit_log_id: audit.id },
			202,
		);
	});
