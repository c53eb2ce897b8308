/**
 * Sending a deposit message onto the `DEPOSITS` queue, where the consumer settles it through
 * its normal, idempotent path. The webhook routes and the redrive send messages already shaped by
 * the contract ({@link enqueue}, {@link enqueueAll} for the several transfers of one request);
 * an admin assign builds one, which is checked against the v1 contract before it leaves
 * ({@link sendDeposit}), so a malformed one is never queued.
 *
 * @module
 */
import { type DepositMessage, parseDepositMessage } from "../schema/queue-message";
import { type ApiError, serviceUnavailable } from "./http/errors";

/** The 503 an admin gets when the queue refused the message: nothing was sent, retry. */
export function queueUnavailable(message = "the deposit queue is unavailable; retry later"): ApiError {
	return serviceUnavailable(message);
}

/** Sends `message` as it is; false (and a log line) when the queue did not take it. */
export async function enqueue(queue: Queue<DepositMessage>, message: DepositMessage): Promise<boolean> {
	try {
		await queue.send(message, { contentType: "json" });
		return true;
	} catch (error) {
		console.error("queue send failed:", error);
		return false;
	}
}

/** Most messages one `sendBatch` takes (Cloudflare Queues' limit; 256 KB in all, far above ours). */
export const MAX_BATCH_MESSAGES = 100;

/**
 * Sends several messages with `sendBatch`, which takes all of a batch or none: up to
 * {@link MAX_BATCH_MESSAGES} (every request but a huge one) they go in one batch, so a refusal
 * sends nothing. False (and a log line) when the queue refused; a batch sent before a refused one
 * is then sent again by the sender's retry, which settlement treats as the redelivery it is.
 */
export async function enqueueAll<Body>(queue: Queue<Body>, messages: readonly Body[]): Promise<boolean> {
	try {
		for (let i = 0; i < messages.length; i += MAX_BATCH_MESSAGES) {
			const batch = messages.slice(i, i + MAX_BATCH_MESSAGES);
			await queue.sendBatch(batch.map((body) => ({ body, contentType: "json" as const })));
		}
		return true;
	} catch (error) {
		console.error("queue sendBatch failed:", error);
		return false;
	}
}

/** Checks `message` against the v1 contract, then sends it as {@link enqueue} does. */
export async function sendDeposit(queue: Queue<DepositMessage>, message: DepositMessage): Promise<boolean> {
	const parsed = parseDepositMessage(message);
	if (!parsed.success) {
		throw new Error(`refusing to queue an invalid deposit message: ${parsed.error.message}`);
	}
	return enqueue(queue, parsed.data);
}

/**
 * This Worker's version id for a message's `edge_version`, or nothing when the runtime gives
 * none (an empty id would not pass the contract).
 */
export function edgeVersion(env: { CF_VERSION_METADATA?: { id?: string } }): { edge_version?: string } {
	const id = env.CF_VERSION_METADATA?.id;
	return id ? { edge_version: id.slice(0, 64) } : {};
}
