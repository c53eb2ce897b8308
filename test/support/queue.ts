/**
 * A `DEPOSITS` binding for tests that records every message a route sends; it forwards them to
 * the real local queue when given one, or throws to play a queue outage (which cannot be
 * produced locally).
 *
 * @module
 */

import type { DepositMessage } from "../../schema/queue-message";

export function recordingQueue(options: { forwardTo?: Queue; fail?: boolean } = {}) {
	const sent: DepositMessage[] = [];
	const queue = {
		async send(body: unknown, sendOptions?: QueueSendOptions) {
			if (options.fail) throw new Error("queue unavailable (test)");
			sent.push(structuredClone(body) as DepositMessage);
			await options.forwardTo?.send(body, sendOptions);
		},
		async sendBatch(messages: Iterable<MessageSendRequest>, sendOptions?: QueueSendBatchOptions) {
			if (options.fail) throw new Error("queue unavailable (test)");
			const list = [...messages];
			for (const m of list) sent.push(structuredClone(m.body) as DepositMessage);
			await options.forwardTo?.sendBatch(list, sendOptions);
		},
	} as unknown as Queue;
	return { queue, sent };
}
