/**
 * Settlement can be paused by an admin (the console, or `ops settlement pause`): while the
 * `settlement_pause` row exists, the consumer credits nothing. A batch of the deposits queue
 * that arrives while paused is put back on the queue, unchanged, to be delivered again after
 * `PAUSED_RETRY_SECONDS`, and only then acked; the cron re-check finds nothing to look at
 * (its candidates' query, chain-sql.ts, excludes everything while paused).
 *
 * Why put back rather than retry: a retry counts against the queue's `max_retries`, so a pause
 * longer than the retry budget would move every waiting deposit to the dead-letter queue. A
 * message sent again starts at attempt 1 and can wait for as long as the queue keeps messages.
 * It is acked only once the copy is on the queue; a crash in between leaves two copies, and
 * settlement is idempotent by deposit key, so the second changes nothing.
 *
 * In production `ops settlement pause --env …` also pauses the queue's delivery through
 * Cloudflare's API, so no batch is delivered at all; this row is what every environment shares
 * (Miniflare's local queue cannot pause), what the console shows, and what the consumer trusts
 * even when a Cloudflare call failed. A batch that began before the pause was recorded finishes,
 * as an in-flight batch does when Cloudflare pauses delivery.
 *
 * @module
 */
import type { QueueBatch } from "./queue-types";
import type { Sql } from "./settle-transaction";

/** The pause, or null while settlement runs. */
export interface SettlementPause {
	paused_at: string;
	reason: string;
}

const READ_PAUSE = `SELECT to_char(paused_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS paused_at, reason
FROM settlement_pause`;

/** Reads the pause; throws when the database cannot answer (the caller retries: never settle blind). */
export async function readSettlementPause(sql: Sql, timeoutMs: number): Promise<SettlementPause | null> {
	const rows = (await sql.query(READ_PAUSE, [], {
		fetchOptions: { signal: AbortSignal.timeout(timeoutMs) },
	})) as SettlementPause[];
	return rows[0] ?? null;
}

/** The producer of the deposits queue (the consumer's `DEPOSITS` binding fits it). */
export interface DepositsProducer {
	sendBatch(messages: Iterable<{ body: unknown; delaySeconds?: number }>): Promise<unknown>;
}

/**
 * Keeps a batch for after the pause: sends each message again with a delay, then acks it. If
 * the queue refuses the copies, each message is retried with the same delay instead (nothing
 * is acked that is not on the queue again).
 */
export async function putBackWhilePaused(
	batch: QueueBatch,
	producer: DepositsProducer,
	delaySeconds: number,
): Promise<"put_back" | "retried"> {
	try {
		await producer.sendBatch(batch.messages.map((m) => ({ body: m.body, delaySeconds })));
	} catch (error) {
		console.error(
			`settlement paused; could not put ${batch.messages.length} messages back, retrying them:`,
			error,
		);
		for (const m of batch.messages) m.retry({ delaySeconds });
		return "retried";
	}
	for (const m of batch.messages) m.ack();
	return "put_back";
}
