/**
 * Sending a deposit message from an admin action (assign, redrive) onto the `DEPOSITS` queue,
 * where the consumer settles it through its normal, idempotent path. The message is checked
 * against the v1 contract before it leaves, so a malformed one is never queued.
 *
 * @module
 */
import { type DepositMessage, parseDepositMessage } from "../../../schema/queue-message";
import { ApiError } from "../errors";

/** The 503 an admin gets when the queue refused the message: nothing was sent, retry. */
export function queueUnavailable(): ApiError {
	return new ApiError(
		503,
		"service_unavailable",
		"the deposit queue is unavailable; retry later",
		{},
		{
			"Retry-After": "5",
		},
	);
}

/** Sends `message`; false (and a log line) when the queue did not take it. */
export async function sendDeposit(queue: Queue, message: DepositMessage): Promise<boolean> {
	const parsed = parseDepositMessage(message);
	if (!parsed.success) {
		throw new Error(`refusing to queue an invalid deposit message: ${parsed.error.message}`);
	}
	try {
		await queue.send(parsed.data, { contentType: "json" });
		return true;
	} catch (error) {
		console.error("queue send failed:", error);
		return false;
	}
}
