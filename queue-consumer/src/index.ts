/**
 * The consumer Worker's entry point: batches of the `deposits` queue are settled into the
 * ledger (settle.ts); what its dead-letter queue hands over is stored in `dead_letters`
 * (dead-letter-queue.ts).
 *
 * @module
 */
import { createDatabase } from "../../schema/client";
import { ConfigError, parseConsumerConfig, retryDelaySeconds } from "./config";
import { isDeadLetterQueue, keepInLastNet, storeDeadLetterQueueBatch } from "./dead-letter-queue";
import { recordBatch } from "./metrics";
import { type SettleContext, settleDepositBatch } from "./settle";

/** Backoff for a batch that cannot even start (bad configuration): long enough to fix it. */
const UNCONFIGURED_RETRY = { retryBaseSeconds: 60, retryMaxSeconds: 3_600 };

export default {
	async queue(batch, env) {
		let context: SettleContext;
		try {
			context = {
				sql: createDatabase(env).sql,
				config: parseConsumerConfig(env as unknown as Record<string, unknown>),
				metrics: env.METRICS,
				versionId: env.CF_VERSION_METADATA?.id ?? "",
			};
		} catch (error) {
			// Nothing can be settled, and guessing a threshold could credit too early: keep every
			// message on the queue until the configuration is fixed.
			const why = error instanceof ConfigError ? error.message : `consumer misconfigured: ${error}`;
			console.error(why);
			for (const m of batch.messages) {
				// The dead-letter queue deletes a message after its last retry: keep it in the last net.
				if (
					isDeadLetterQueue(batch.queue) &&
					env.LAST_NET &&
					m.attempts >= (Number(env.DEAD_LETTER_MAX_RETRIES) || 100) &&
					(await keepInLastNet(env.LAST_NET, batch.queue, m, why))
				) {
					m.ack();
					continue;
				}
				m.retry({ delaySeconds: retryDelaySeconds(m.attempts, UNCONFIGURED_RETRY) });
			}
			recordBatch(env.METRICS, env.CF_VERSION_METADATA?.id ?? "", [], {
				outcome: "config_error",
				queue: batch.queue,
				size: batch.messages.length,
				dbMs: 0,
				retried: batch.messages.length,
			});
			return;
		}
		if (isDeadLetterQueue(batch.queue)) await storeDeadLetterQueueBatch(batch, context, env.LAST_NET);
		else await settleDepositBatch(batch, context);
	},
} satisfies ExportedHandler<Env, unknown>;
