/**
 * The consumer's Analytics Engine data points (layouts in schema/metrics.ts): one per message
 * (`settle`) and one per batch (`batch`), each with the Worker version id. Writing a metric
 * never fails settlement.
 *
 * @module
 */
import { BATCH, SETTLE, toDataPoint } from "../../schema/metrics";
import type { MetricsSink } from "./queue-types";
import type { RowOutcome } from "./settle-transaction";

/**
 * What became of a message, as the SETTLE layout's `outcome` column records it: `retry` when
 * it was retried for the database, `chain_unavailable` when for its chain's endpoints;
 * `chain_disagrees` when the re-check found a credited deposit described otherwise on chain; `last_net` when the
 * dead-letter queue's last delivery was kept in R2.
 */
export type MessageOutcome = RowOutcome | "retry" | "chain_unavailable" | "chain_disagrees" | "last_net";

export interface MessageMetric {
	outcome: MessageOutcome;
	chain: string;
	settleMs: number;
	lagMs: number;
	attempts: number;
}

export interface BatchMetric {
	/** `paused`: settlement was paused and the batch was put back on the queue, untouched. */
	outcome: "ok" | "db_error" | "isolated" | "config_error" | "dead_letter_queue" | "last_net" | "paused";
	queue: string;
	size: number;
	dbMs: number;
	retried: number;
}

/** Writes one `settle` point per message and one `batch` point. */
export function recordBatch(
	sink: MetricsSink | undefined,
	versionId: string,
	messages: readonly MessageMetric[],
	batch: BatchMetric,
): void {
	if (!sink) return;
	try {
		for (const m of messages) {
			sink.writeDataPoint(toDataPoint(SETTLE, { kind: "settle", worker: "consumer", versionId, ...m }));
		}
		sink.writeDataPoint(toDataPoint(BATCH, { kind: "batch", worker: "consumer", versionId, ...batch }));
	} catch (error) {
		console.error("metrics write failed:", error);
	}
}
