/**
 * The Analytics Engine layout: what each blob and double of a data point means.
 *
 * Every Worker writes into one dataset; `blob1` says which kind of event a point is. The alert
 * rules and the rollout gates (ops/) query the same columns by the names below, so this file
 * is the one place where a position gets its meaning. Every point carries the Worker version
 * id, so a canary's figures can be compared with the stable version's.
 *
 * Counting: Analytics Engine samples, so counts are `SUM(_sample_interval)`, never `COUNT()`.
 *
 * @module
 */

/** Column names shared by every kind of event. */
export const COMMON = {
	/** "request" | "ignored" | "settle" | "batch" | "dead_letter" | "ledger" */
	kind: "blob1",
	/** "edge" | "api" | "consumer": the Worker that wrote the point. */
	worker: "blob2",
	/** `version_metadata.id`: the Worker version that wrote the point. */
	versionId: "blob3",
} as const;

/**
 * One HTTP request, written by the Worker that answered it: the edge Worker for webhooks, the fast
 * health check and requests it could not forward; the API Worker for everything it serves.
 */
export const REQUEST = {
	...COMMON,
	/**
	 * Route pattern, e.g. "/api/v1/webhooks/:chain", or "(unmatched)" when no route matched
	 * (never the raw path: bounded cardinality).
	 */
	route: "blob4",
	/** HTTP method, e.g. "POST". */
	method: "blob5",
	/** Chain of a webhook, "" elsewhere. */
	chain: "blob6",
	/** Cloudflare colo that answered (`request.cf.colo`), "" locally. */
	colo: "blob7",
	/** Error code of the JSON error body ("" on success), e.g. "signature_invalid". */
	errorCode: "blob8",
	/** HTTP status. */
	status: "double1",
	/** Wall time from the request's arrival to the response, ms. */
	latencyMs: "double2",
	/** 1 when a webhook was valid but the queue refused it (the sender got 503), else 0. */
	enqueueFailed: "double3",
	/** Webhook source that sent it ("moralis", "original", …; "" when none could be told). */
	source: "blob9",
	/**
	 * Why a webhook was refused or not enqueued, finer than the error code: e.g.
	 * "signature_mismatch", "timestamp_out_of_tolerance", "replayed", "legacy_sunset",
	 * "duplicate_key", "unstorable_text", "validation_failed", "rate_limited",
	 * "queue_unavailable"; "duplicate_delivery" for a replay answered as a duplicate; "" when
	 * accepted. A console shows refused webhooks by `reason` and `source`.
	 */
	reason: "blob10",
	/** Deposit messages the request enqueued (a provider webhook may carry several). */
	deposits: "double4",
	/** Transfers in it that are not deposits (other tokens, outgoing, zero): see IGNORED. */
	ignored: "double5",
	/** Transfers in it held for review (amount the ledger cannot hold exactly). */
	held: "double6",
} as const;

/** Transfers of one webhook that were not deposits, one point per reason. */
export const IGNORED = {
	...COMMON,
	source: "blob4",
	/** "foreign_token" | "outgoing" | "zero_amount" */
	reason: "blob5",
	chain: "blob6",
	count: "double1",
} as const;

/** One queue message handled by the consumer. */
export const SETTLE = {
	...COMMON,
	/**
	 * What became of the message: "pending" | "credited" | "duplicate" | "unmatched" |
	 * "conflict" | "reverted" | "reversed" | "dead_letter" | "retry" | "last_net" (the
	 * dead-letter queue's last delivery could not be stored in Postgres: kept in the R2 last
	 * net for `ops dlq last-net --redrive`); "held" (held for review, never credited: the
	 * settlement rules cannot decide a reorg, or on-chain verification contradicts it),
	 * "chain_unavailable" (no endpoint of its chain answered: retried) and, from the re-check,
	 * "chain_disagrees" (a credit the chain describes otherwise). Re-check points have queue
	 * "recheck" in their batch point.
	 */
	outcome: "blob4",
	chain: "blob5",
	/** Time the batch's database round trip took, ms (shared by the batch's messages). */
	settleMs: "double1",
	/** From `received_at` at the edge to settlement, ms: the end-to-end lag. */
	lagMs: "double2",
	/** Delivery attempt of this message (1 on the first). */
	attempts: "double3",
} as const;

/** One batch handled by the consumer. */
export const BATCH = {
	...COMMON,
	/**
	 * "ok" (one round trip settled it) | "db_error" (transient failure: every message retried) |
	 * "isolated" (Postgres refused the batch: settled one message at a time, the refused ones
	 * dead-lettered) | "config_error" (invalid consumer configuration: every message retried) |
	 * "dead_letter_queue" (a batch of the dead-letter queue, stored in `dead_letters`) |
	 * "last_net" (a batch of the dead-letter queue that Postgres could not take on its last
	 * deliveries, kept in the R2 last net) | "paused" (settlement paused by an admin: the batch
	 * was put back on the queue, untouched; `retried` is 0).
	 */
	outcome: "blob4",
	/** Queue the batch came from. */
	queue: "blob5",
	size: "double1",
	/** Time of the database round trip, ms (all of them, when the batch was isolated). */
	dbMs: "double2",
	/** Messages retried in this batch. */
	retried: "double3",
} as const;

/**
 * What waits in the ledger's review queues and address pools, counted in Postgres once a
 * minute by the consumer's cron trigger (queue-consumer/src/ledger-gauges.ts). Written as data
 * points so that the alert rules read these counts like every other figure, from Analytics
 * Engine, and the alerts Worker needs no access to the database.
 */
export const LEDGER = {
	...COMMON,
	/** Address families (evm, tron) whose imported pool has no unissued address left, e.g. "evm,tron"; "" when none. */
	emptyPoolFamilies: "blob4",
	/** Age of the oldest deposit still `pending`, minutes (0 when none is). */
	oldestPendingMinutes: "double1",
	/** Deposits parked as `unmatched`. */
	unmatched: "double2",
	/** Unresolved conflicts. */
	conflicts: "double3",
	/** Unresolved reversal shortfalls. */
	shortfalls: "double4",
	/** Dead letters not redriven. */
	deadLetters: "double5",
	/** How many families `emptyPoolFamilies` names. */
	emptyPools: "double6",
} as const;

type Layout = Record<string, string>;
type Values<L extends Layout> = { [K in keyof L]: L[K] extends `blob${number}` ? string : number };

/**
 * Turns named values into an Analytics Engine data point, placing each at its position.
 *
 * @example
 * ```ts
 * env.METRICS.writeDataPoint(toDataPoint(REQUEST, { kind: "request", ... }));
 * ```
 */
export function toDataPoint<L extends Layout>(
	layout: L,
	values: Values<L>,
): { blobs: string[]; doubles: number[]; indexes: string[] } {
	const blobs: string[] = [];
	const doubles: number[] = [];
	for (const [name, column] of Object.entries(layout)) {
		const value = values[name as keyof L];
		const position = Number(column.replace(/^\D+/, "")) - 1;
		if (column.startsWith("blob")) blobs[position] = String(value ?? "");
		else doubles[position] = Number(value ?? 0);
	}
	// Sparse arrays would be written as nulls; fill gaps so every position is typed.
	return {
		blobs: Array.from(blobs, (b) => b ?? ""),
		doubles: Array.from(doubles, (d) => d ?? 0),
		// The sampling key: points of one kind and version are sampled together.
		indexes: [`${values.kind}:${values.versionId}`.slice(0, 96)],
	};
}
