/**
 * The retry budget, read from the committed queue-consumer/wrangler.toml of every environment:
 * how long a database outage each stage outlasts before it hands a message on, that the
 * dead-letter queue's last deliveries meet the last net (its max_retries equals
 * DEAD_LETTER_MAX_RETRIES, and the R2 bucket is bound), and that a backlog is delivered again
 * within a minute of the database coming back. docs/runbook.md quotes these figures.
 */
import { describe, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { parseConsumerConfig, retryDelaySeconds } from "../../queue-consumer/engine";

interface Consumer {
	maxRetries?: number;
	deadLetterQueue?: string;
}

function consumerOptions(env?: string) {
	const { workerOptions } = unstable_getMiniflareWorkerOptions("queue-consumer/wrangler.toml", env);
	return {
		vars: workerOptions.bindings as Record<string, unknown>,
		consumers: workerOptions.queueConsumers as Record<string, Consumer>,
		r2: workerOptions.r2Buckets as Record<string, string> | string[],
	};
}

/** Seconds a message waits in all before its queue gives up: the sum of its backoffs. */
function outlasts(deliveries: number, backoff: { retryBaseSeconds: number; retryMaxSeconds: number }) {
	let total = 0;
	for (let attempt = 1; attempt < deliveries; attempt++) total += retryDelaySeconds(attempt, backoff);
	return total;
}

describe.each([undefined, "staging", "production"])("retry budget (%s)", (env) => {
	const { vars, consumers, r2 } = consumerOptions(env);
	const config = parseConsumerConfig(vars);
	const main = Object.entries(consumers).find(([, c]) => c.deadLetterQueue)!;
	const dlq = consumers[main[1].deadLetterQueue!]!;

	it("outlasts about an hour and a half of outage on the deposits queue, and redelivers within a minute after", () => {
		const seconds = outlasts(main[1].maxRetries! + 1, config);
		expect(seconds / 60).toBeGreaterThan(90);
		expect(config.retryMaxSeconds).toBeLessThanOrEqual(60);
	});

	it("outlasts about a day more on the dead-letter queue, whose last deliveries meet the last net", () => {
		expect(dlq.maxRetries).toBe(config.deadLetterMaxRetries);
		const seconds = outlasts(dlq.maxRetries! + 1, {
			retryBaseSeconds: config.retryBaseSeconds,
			retryMaxSeconds: config.deadLetterRetryMaxSeconds,
		});
		expect(seconds / 3600).toBeGreaterThan(20);
		const buckets = Array.isArray(r2) ? r2 : Object.keys(r2);
		expect(buckets).toContain("LAST_NET");
	});
});
