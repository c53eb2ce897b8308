/**
 * Consumes the queue's dead-letter queue (`deposits-dlq`): what the `deposits` queue gave up
 * on after its last retry, and the transfers the edge holds for review, is stored in `dead_letters` (idempotent by message id) for an
 * operator to inspect and redrive, then acked. If the database cannot take them, they are
 * retried with backoff: a message leaves the queue only once it is stored.
 *
 * @module
 */
import { heldTransferReason } from "../../schema/held-transfer";
import { retryDelaySeconds } from "./config";
import { classifyDatabaseError } from "./database-errors";
import { recordBatch } from "./metrics";
import type { QueueBatch } from "./queue-types";
import { claimedTxId } from "./read-message";
import { deadLetterRow, type SettleContext } from "./settle";
import { settleInOneRoundTrip } from "./settle-transaction";

/** True for the dead-letter queue of any environment (`deposits-dlq`, `deposits-staging-dlq`, ...). */
export function isDeadLetterQueue(queue: string): boolean {
	return queue.endsWith("-dlq");
}

/** Stores a batch of the dead-letter queue; acks it all once stored, else retries it all. */
export async function storeDeadLetterQueueBatch(batch: QueueBatch, context: SettleContext): Promise<void> {
	const origin = batch.queue.replace(/-dlq$/, "");
	const rows = batch.messages.map((m) =>
		deadLetterRow(
			m,
			"queue_dlq",
			// The edge sends transfers it holds for review straight here (schema/held-transfer.ts).
			heldTransferReason(m.body) ??
				`the ${origin} queue gave up on this message after its last retry; the consumer's logs say why`,
			claimedTxId(m.body),
		),
	);
	const started = performance.now();
	let stored = false;
	try {
		await settleInOneRoundTrip(context.sql, [], rows, context.config.databaseTimeoutMs);
		stored = true;
	} catch (error) {
		console.error(
			`could not store ${rows.length} messages of ${batch.queue}, retrying: ${classifyDatabaseError(error).message}`,
		);
	}
	const dbMs = performance.now() - started;
	const now = Date.now();
	for (const m of batch.messages) {
		if (stored) m.ack();
		else m.retry({ delaySeconds: retryDelaySeconds(m.attempts, context.config) });
	}
	recordBatch(
		context.metrics,
		context.versionId,
		batch.messages.map((m) => ({
			outcome: stored ? "dead_letter" : "retry",
			chain: String((m.body as { chain?: unknown } | null)?.chain ?? "").slice(0, 16),
			settleMs: dbMs,
			lagMs: Math.max(0, now - m.timestamp.getTime()),
			attempts: m.attempts,
		})),
		{
			outcome: stored ? "dead_letter_queue" : "db_error",
			queue: batch.queue,
			size: batch.messages.length,
			dbMs,
			retried: stored ? 0 : batch.messages.length,
		},
	);
}
