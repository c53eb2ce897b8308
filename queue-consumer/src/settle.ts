/**
 * Settles a batch from the `deposits` queue: every message ends acked as settled (credited,
 * pending, parked, conflict, duplicate, reverted, reversed, held) or dead-lettered, or is retried
 * with backoff. Nothing is acked before the database has committed what the ack stands for.
 *
 * - Messages that can never settle (contract violations, a `tx_id` that disagrees with its
 *   key) are stored in `dead_letters` in the same transaction as the rest, then acked.
 * - The batch is one round trip (settle-transaction.ts). A transient failure (network,
 *   timeout, deadlock, Neon unavailable) retries each message with exponential backoff from
 *   its own `attempts`; redelivery of an already committed message is a no-op, so a lost ack
 *   or a response lost after commit costs nothing.
 * - A permanent failure (Postgres refused the data: SQLSTATE class 22 or 23) means one of the
 *   messages is poison; the batch is then settled one message at a time, and only the
 *   messages that fail on their own are dead-lettered.
 * - Before any of it, the batch is verified on chain where its chains ask for it
 *   (chain-stage.ts): a message the chain confirms settles with the chain's figures, one it
 *   contradicts is held for review and never credited, and one whose chain cannot be reached
 *   is retried with backoff like a database failure (outcome `chain_unavailable`).
 *
 * @module
 */

import { classifyDatabaseError } from "../../schema/database-errors";
import type { ChainVerificationConfig } from "./chain/chain-config";
import type { ChainCheckRow, HoldRow } from "./chain-sql";
import { checkOnChain, decideWebhook } from "./chain-stage";
import { type ConsumerConfig, retryDelaySeconds } from "./config";
import { type BatchMetric, type MessageMetric, type MessageOutcome, recordBatch } from "./metrics";
import type { MetricsSink, QueueBatch, QueueMessage } from "./queue-types";
import { cleanStrings, readMessage, storableJson } from "./read-message";
import { type DeliveryRow, deliveryRow } from "./record-deliveries";
import type { DeadLetterRow, SettleRow } from "./settle-sql";
import { type Sql, settleInOneRoundTrip } from "./settle-transaction";

export interface SettleContext {
	sql: Sql;
	config: ConsumerConfig;
	/** On-chain verification per chain; without it every chain trusts senders (the benchmark's baseline). */
	chain?: ChainVerificationConfig;
	/** The Analytics Engine binding; metrics are skipped without one. */
	metrics?: MetricsSink;
	/** `CF_VERSION_METADATA.id`, written into every data point. */
	versionId: string;
}

interface Pending {
	message: QueueMessage;
	/** Set for a message that can be settled. */
	row?: SettleRow;
	/** The record of this delivery, written when the message is settled or held. */
	delivery?: DeliveryRow;
	/** Set for a message that goes to the dead-letter table. */
	deadLetter?: DeadLetterRow;
	/** Set for a message the chain contradicts: its deposit is held, never credited. */
	hold?: HoldRow;
	/** The block the chain confirmed the message's transfer in. */
	block?: ChainCheckRow;
	/** Set when the message's chain could not be asked: it is retried. */
	chainUnavailable?: boolean;
	chain: string;
	receivedAt: number;
	outcome?: MessageOutcome;
}

/** The dead-letter row for a message; its body is made storable whatever it holds. */
export function deadLetterRow(
	message: QueueMessage,
	source: DeadLetterRow["source"],
	reason: string,
	txId: string | null,
): DeadLetterRow {
	return {
		message_id: message.id,
		tx_id: txId,
		source,
		reason: cleanStrings(reason) as string,
		body: storableJson(message.body),
		attempts: message.attempts,
	};
}

async function readBatch(batch: QueueBatch, config: ConsumerConfig, versionId: string): Promise<Pending[]> {
	return Promise.all(
		batch.messages.map(async (message, i): Promise<Pending> => {
			const read = await readMessage(message.body, config);
			if (!read.ok) {
				return {
					message,
					deadLetter: deadLetterRow(message, "consumer", read.reason, read.txId),
					chain: "",
					receivedAt: message.timestamp.getTime(),
				};
			}
			return {
				message,
				row: { i, message_id: message.id, attempts: message.attempts, ...read.row },
				delivery: deliveryRow(read.message, message, versionId),
				chain: read.message.chain,
				receivedAt: Date.parse(read.message.received_at),
			};
		}),
	);
}

/**
 * Settles one batch of the `deposits` queue and acks or retries each message.
 *
 * @returns the outcome of each message by message id (what the metrics recorded).
 */
export async function settleDepositBatch(
	batch: QueueBatch,
	context: SettleContext,
): Promise<Map<string, MessageOutcome>> {
	const { sql, config } = context;
	const pending = await readBatch(batch, context.config, context.versionId);
	const started = performance.now();
	try {
		await verifyPending(pending, context);
	} catch (error) {
		console.error(
			`could not read the batch's deposits before verifying them, retrying ${pending.length} messages: ${classifyDatabaseError(error).message}`,
		);
		return finish(batch, pending, context, { outcome: "db_error", dbMs: performance.now() - started });
	}
	const rows = pending.flatMap((p) => (p.row ? [p.row] : []));
	const deadLetters = pending.flatMap((p) => (p.deadLetter ? [p.deadLetter] : []));
	const chain = {
		holds: pending.flatMap((p) => (p.hold ? [p.hold] : [])),
		blocks: pending.flatMap((p) => (p.block ? [p.block] : [])),
	};
	let batchOutcome: BatchMetric["outcome"] = "ok";
	try {
		const outcomes = await settleInOneRoundTrip(
			sql,
			rows,
			deadLetters,
			config.databaseTimeoutMs,
			chain,
			deliveriesOf(pending),
		);
		for (const p of pending) {
			if (p.row) p.outcome = outcomes.get(p.row.i);
			else if (p.hold) p.outcome = outcomes.get(p.hold.i);
			else if (p.deadLetter) p.outcome = "dead_letter";
		}
	} catch (error) {
		const failure = classifyDatabaseError(error);
		if (failure.permanent) {
			console.warn(`batch of ${rows.length} refused (${failure.message}); settling its messages one by one`);
			batchOutcome = "isolated";
			await settleOneByOne(pending, context);
		} else {
			console.error(`settlement failed, retrying ${pending.length} messages: ${failure.message}`);
			batchOutcome = "db_error";
		}
	}
	const dbMs = performance.now() - started;
	return finish(batch, pending, context, { outcome: batchOutcome, dbMs });
}

/**
 * The verification stage: each message's row is replaced by what the chain confirms, or by
 * a hold, or taken out to be retried (chain-stage.ts).
 */
async function verifyPending(pending: Pending[], context: SettleContext): Promise<void> {
	const withRows = pending.filter((p) => p.row);
	const checks = await checkOnChain(
		context.sql,
		context.chain,
		withRows.map((p) => p.row!),
		context.config.databaseTimeoutMs,
	);
	withRows.forEach((p, k) => {
		const decision = decideWebhook(p.row!, checks[k]!);
		if (decision.kind === "settle") {
			p.row = decision.row;
			if (decision.block) p.block = decision.block;
			return;
		}
		p.row = undefined;
		if (decision.kind === "hold") p.hold = decision.hold;
		else {
			p.chainUnavailable = true;
			console.warn(`${p.chain} unavailable, retrying message ${p.message.id}: ${decision.error.message}`);
		}
	});
}

/** The deliveries of the messages this transaction settles or holds (not retried, not dead-lettered). */
function deliveriesOf(pending: Pending[]): DeliveryRow[] {
	return pending.flatMap((p) => ((p.row || p.hold) && p.delivery ? [p.delivery] : []));
}

/** After a permanent failure: each settleable message alone, then the dead letters together. */
async function settleOneByOne(pending: Pending[], context: SettleContext): Promise<void> {
	const { sql, config } = context;
	for (const p of pending) {
		if (!p.row && !p.hold) continue;
		try {
			const chain = { holds: p.hold ? [p.hold] : [], blocks: p.block ? [p.block] : [] };
			const outcomes = await settleInOneRoundTrip(
				sql,
				p.row ? [p.row] : [],
				[],
				config.databaseTimeoutMs,
				chain,
				deliveriesOf([p]),
			);
			p.outcome = outcomes.get((p.row ?? p.hold)!.i);
		} catch (error) {
			const failure = classifyDatabaseError(error);
			if (!failure.permanent) continue; // left without an outcome: retried
			p.deadLetter = deadLetterRow(
				p.message,
				"consumer",
				`Postgres refused to settle this message: ${failure.message}`,
				(p.row ?? p.hold)!.tx_id,
			);
			p.row = undefined;
			p.hold = undefined;
		}
	}
	const deadLetters = pending.flatMap((p) => (p.deadLetter && !p.outcome ? [p] : []));
	if (!deadLetters.length) return;
	try {
		await settleInOneRoundTrip(
			sql,
			[],
			deadLetters.map((p) => p.deadLetter!),
			config.databaseTimeoutMs,
		);
		for (const p of deadLetters) p.outcome = "dead_letter";
	} catch (error) {
		console.error(
			`could not store ${deadLetters.length} dead letters: ${classifyDatabaseError(error).message}`,
		);
	}
}

/** Acks what has an outcome, retries the rest with backoff, and writes the metrics. */
function finish(
	batch: QueueBatch,
	pending: Pending[],
	context: SettleContext,
	result: { outcome: BatchMetric["outcome"]; dbMs: number },
): Map<string, MessageOutcome> {
	const now = Date.now();
	const byId = new Map<string, MessageOutcome>();
	const metrics: MessageMetric[] = [];
	let retried = 0;
	for (const p of pending) {
		if (p.outcome) {
			p.message.ack();
		} else {
			p.outcome = p.chainUnavailable ? "chain_unavailable" : "retry";
			retried++;
			p.message.retry({ delaySeconds: retryDelaySeconds(p.message.attempts, context.config) });
		}
		byId.set(p.message.id, p.outcome);
		metrics.push({
			outcome: p.outcome,
			chain: p.chain,
			settleMs: result.dbMs,
			lagMs: Math.max(0, now - p.receivedAt),
			attempts: p.message.attempts,
		});
	}
	recordBatch(context.metrics, context.versionId, metrics, {
		outcome: result.outcome,
		queue: batch.queue,
		size: pending.length,
		dbMs: result.dbMs,
		retried,
	});
	return byId;
}
