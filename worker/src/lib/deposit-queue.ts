/**
 * Sending a deposit message onto the `DEPOSITS` queue, where the consumer settles it through
 * its normal, idempotent path. The webhook route and the redrive send messages already shaped by
 * the contract ({@link enqueue}); an admin assign builds one, which is checked against the v1
 * contract before it leaves ({@link sendDeposit}), so a malformed one is never queued.
 *
 * @module
 */
import { type DepositMessage, parseDepositMessage } from "../../../schema/queue-message";
import { type ApiError, serviceUnavailable } from "../errors";

/** The 503 an admin gets when the queue refused the message: nothing was sent, retry. */
export function queueUnavailable(): ApiError {
	return serviceUnavailable("the deposit queue is unavailable; retry later");
}

/** Sends `message` as it is; false (and a log line) when the queue did not take it. */
export async function enqueue(queue: Queue, message: DepositMessage): Promise<boolean> {
	try {
		await queue.send(message, { contentType: "json" });
		return true;
	} catch (error) {
		console.error("queue send failed:", error);
		return false;
	}
}

/** Checks `message` against the v1 contract, then sends it as {@link enqueue} does. */
export async function sendDeposit(queue: Queue, message: DepositMessage): Promise<boolean> {
	const parsed = parseDepositMessage(message);
	if (!parsed.success) {
		throw new Error(`refusing to queue an invalid deposit message: ${parsed.error.message}`);
	}
	return enqueue(queue, parsed.data);
}
