/**
 * The consumer Worker's entry point: batches of the `deposits` queue are verified on chain and
 * settled into the ledger (settle.ts); what its dead-letter queue hands over is stored in
 * `dead_letters` (dead-letter-queue.ts); its cron trigger re-checks on chain the deposits that
 * are not final yet or still inside their reorg window (recheck.ts). While an admin has paused
 * settlement, neither credits anything (settlement-pause.ts).
 *
 * @module
 */
import { createDatabase } from "../../schema/client";
import { parseChainConfig } from "./chain/chain-config";
import { ConfigError, parseConsumerConfig, retryDelaySeconds } from "./config";
import { isDeadLetterQueue, keepInLastNet, storeDeadLetterQueueBatch } from "./dead-letter-queue";
import { recordLedgerGauges } from "./ledger-gauges";
import { recordBatch } from "./metrics";
import { recheckDeposits } from "./recheck";
import { type SettleContext, settleDepositBatch } from "./settle";
import { putBackWhilePaused, readSettlementPause } from "./settlement-pause";

/** Backoff for a batch that cannot even start (bad configuration): long enough to fix it. */
const UNCONFIGURED_RETRY = { retryBaseSeconds: 60, retryMaxSeconds: 3_600 };

// An isolate keeps one environment object for its life: its settings are parsed once.
const settings = new WeakMap<Env, Pick<SettleContext, "config" | "chain">>();

/**
 * Everything settlement needs, from the environment; its settings parsed on first use and then
 * kept. Throws a ConfigError naming what is wrong (and parses again next time, so a fix is seen).
 * The database client is made per batch: the driver keeps its endpoint globally, set from the
 * environment at hand.
 */
function settleContext(env: Env): SettleContext {
	let parsed = settings.get(env);
	if (!parsed) {
		parsed = { config: parseConsumerConfig(env), chain: parseChainConfig(env) };
		settings.set(env, parsed);
	}
	return {
		sql: createDatabase(env).sql,
		...parsed,
		metrics: env.METRICS,
		versionId: env.CF_VERSION_METADATA?.id ?? "",
	};
}

function configErrorMessage(error: unknown): string {
	return error instanceof ConfigError ? error.message : `consumer misconfigured: ${error}`;
}

/**
 * True when settlement is paused and the batch was kept for later; a database that cannot say
 * counts as a failure of the batch (retried with backoff), never as "not paused".
 */
async function pausedFor(context: SettleContext, batch: MessageBatch, env: Env): Promise<boolean> {
	const dbStarted = performance.now();
	let paused: boolean;
	try {
		paused = (await readSettlementPause(context.sql, context.config.databaseTimeoutMs)) !== null;
	} catch (error) {
		console.error(
			`could not read whether settlement is paused, retrying ${batch.messages.length} messages:`,
			error,
		);
		for (const m of batch.messages) m.retry({ delaySeconds: retryDelaySeconds(m.attempts, context.config) });
		recordPaused(context, batch, "db_error", performance.now() - dbStarted);
		return true;
	}
	if (!paused) return false;
	const kept = await putBackWhilePaused(batch, env.DEPOSITS, context.config.pausedRetrySeconds);
	recordPaused(context, batch, kept === "put_back" ? "paused" : "db_error", performance.now() - dbStarted);
	return true;
}

function recordPaused(
	context: SettleContext,
	batch: MessageBatch,
	outcome: "paused" | "db_error",
	dbMs: number,
) {
	recordBatch(context.metrics, context.versionId, [], {
		outcome,
		queue: batch.queue,
		size: batch.messages.length,
		dbMs,
		// Put back on purpose is not a failure: the settle-failure alert must not fire on a pause.
		retried: outcome === "paused" ? 0 : batch.messages.length,
	});
}

export default {
	async queue(batch, env) {
		let context: SettleContext;
		try {
			context = settleContext(env);
		} catch (error) {
			// Nothing can be settled, and guessing a threshold could credit too early: keep every
			// message on the queue until the configuration is fixed.
			const why = configErrorMessage(error);
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
		// The dead-letter queue only stores letters, which credits nothing: it runs while paused.
		if (isDeadLetterQueue(batch.queue)) {
			await storeDeadLetterQueueBatch(batch, context, env.LAST_NET);
			return;
		}
		if (await pausedFor(context, batch, env)) return;
		await settleDepositBatch(batch, context);
	},

	async scheduled(_controller, env) {
		let context: SettleContext;
		try {
			context = settleContext(env);
		} catch (error) {
			// The run fails (visible as a failed cron invocation); the next one tries again.
			throw new Error(configErrorMessage(error));
		}
		// The review queues' counts for the alert rules, beside the re-check (neither waits for the other).
		const [summary] = await Promise.all([recheckDeposits(context), recordLedgerGauges(context)]);
		if (summary.checked)
			console.log(`chain re-check: ${summary.checked} deposits, ${JSON.stringify(summary.outcomes)}`);
	},
} satisfies ExportedHandler<Env, unknown>;
