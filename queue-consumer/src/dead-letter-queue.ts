/**
 * Consumes the queue's dead-letter queue (`deposits-dlq`): what the `deposits` queue gave up
 * on after its last retry, and the transfers the edge holds for review, is stored in
 * `dead_letters` (idempotent by message id) for an operator to inspect and redrive, then acked.
 * If the database cannot take them, they are retried with backoff (capped at
 * DEAD_LETTER_RETRY_MAX_SECONDS: this queue outlasts a long outage, about a day).
 *
 * The last net: the queue deletes a message after its last retry, so from delivery
 * DEAD_LETTER_MAX_RETRIES on (the queue's `max_retries`), a message Postgres still cannot take
 * is written to the R2 bucket `LAST_NET` (which does not depend on Postgres) and acked only once
 * R2 has it; `ops dlq last-net --redrive` puts it back on this queue later. A message leaves
 * the queues only once it is stored somewhere.
 *
 * @module
 */

import { classifyDatabaseError } from "../../schema/database-errors";
import { heldTransferReason } from "../../schema/held-transfer";
import { retryDelaySeconds } from "./config";
import { recordBatch } from "./metrics";
import type { LastNetStore, QueueBatch, QueueMessage } from "./queue-types";
import { claimedTxId } from "./read-message";
import { deadLetterRow, type SettleContext } from "./settle";
import { settleInOneRoundTrip } from "./settle-transaction";

/** True for the dead-letter queue of any environment (`deposits-dlq`, `deposits-staging-dlq`, ...). */
export function isDeadLetterQueue(queue: string): boolean {
	return queue.endsWith("-dlq");
}

/** Key of a message in the last net: by queue and message id, so a second write replaces the first. */
export function lastNetKey(queue: string, messageId: string): string {
	return `${queue}/${messageId}.json`;
}

/** Writes `m` to the last net; true once R2 has it. */
export async function keepInLastNet(
	store: LastNetStore,
	queue: string,
	m: QueueMessage,
	why: string,
): Promise<boolean> {
	const record = {
		v: 1,
		queue,
		message_id: m.id,
		attempts: m.attempts,
		enqueued_at: m.timestamp.toISOString(),
		stored_at: new Date().toISOString(),
		reason: why,
		body: m.body,
	};
	try {
		await store.put(lastNetKey(queue, m.id), JSON.stringify(record), {
			httpMetadata: { contentType: "application/json" },
		});
		return true;
	} catch (error) {
		console.error(
			`LAST NET FAILED for message ${m.id} of ${queue}: ${error}; it may be deleted by the queue`,
		);
		return false;
	}
}

/**
 * Stores a batch of the dead-letter queue; acks it all once stored, else retries it all, except
 * messages on their last deliveries, which go to the last net (`lastNet`) and are acked there.
 */
export async function storeDeadLetterQueueBatch(
	batch: QueueBatch,
	context: SettleContext,
	lastNet?: LastNetStore,
): Promise<void> {
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
	let failure = "";
	try {
		await settleInOneRoundTrip(context.sql, [], rows, context.config.databaseTimeoutMs);
		stored = true;
	} catch (error) {
		failure = classifyDatabaseError(error).message;
		console.error(`could not store ${rows.length} messages of ${batch.queue}, retrying: ${failure}`);
	}
	const dbMs = performance.now() - started;
	const now = Date.now();
	const kept = new Set<string>();
	if (!stored && lastNet) {
		for (const m of batch.messages) {
			if (m.attempts < context.config.deadLetterMaxRetries) continue;
			const why = `Postgres could not take this dead letter on delivery ${m.attempts}: ${failure}`;
			if (await keepInLastNet(lastNet, batch.queue, m, why)) kept.add(m.id);
		}
	}
	const backoff = {
		retryBaseSeconds: context.config.retryBaseSeconds,
		retryMaxSeconds: context.config.deadLetterRetryMaxSeconds,
	};
	for (const m of batch.messages) {
		if (stored || kept.has(m.id)) m.ack();
		else m.retry({ delaySeconds: retryDelaySeconds(m.attempts, backoff) });
	}
	const outcomeOf = (m: QueueMessage) => (stored ? "dead_letter" : kept.has(m.id) ? "last_net" : "retry");
	recordBatch(
		context.metrics,
		context.versionId,
		batch.messages.map((m) => ({
			outcome: outcomeOf(m),
			chain: String((m.body as { chain?: unknown } | null)?.chain ?? "").slice(0, 16),
			settleMs: dbMs,
			lagMs: Math.max(0, now - m.timestamp.getTime()),
			attempts: m.attempts,
		})),
		{
			outcome: stored ? "dead_letter_queue" : kept.size ? "last_net" : "db_error",
			queue: batch.queue,
			size: batch.messages.length,
			dbMs,
			retried: stored ? 0 : batch.messages.length - kept.size,
		},
	);
}
