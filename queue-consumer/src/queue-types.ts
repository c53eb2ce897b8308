/**
 * The parts of a Workers queue batch and of an Analytics Engine binding that settlement uses.
 * Cloudflare's `MessageBatch` and `AnalyticsEngineDataset` fit them as they are; declaring
 * them here keeps the settlement code free of Workers-only types, so the benchmark can run
 * the same code from Node.
 *
 * @module
 */

export interface QueueMessage {
	readonly id: string;
	readonly timestamp: Date;
	readonly body: unknown;
	/** Delivery attempt, 1 on the first. */
	readonly attempts: number;
	ack(): void;
	retry(options?: { delaySeconds?: number }): void;
}

export interface QueueBatch {
	readonly queue: string;
	readonly messages: readonly QueueMessage[];
}

export interface MetricsSink {
	writeDataPoint(point: { blobs?: string[]; doubles?: number[]; indexes?: string[] }): void;
}

/**
 * Where the dead-letter queue puts what Postgres cannot take on its last delivery: an R2
 * bucket (`LAST_NET`), which does not depend on Postgres. Cloudflare's `R2Bucket` fits it.
 */
export interface LastNetStore {
	put(key: string, value: string, options?: { httpMetadata?: { contentType?: string } }): Promise<unknown>;
}
