/**
 * The signals the alert rules read: each one is a single query (Analytics Engine SQL or
 * GraphQL Analytics) over a time window, returning a few named figures. Several rules share a
 * signal, so an evaluation asks each question once per point in time.
 *
 * Column meanings come from schema/metrics.ts; nothing here knows a blob or double by number.
 *
 * @module
 */
import { BATCH, COMMON, LEDGER, REQUEST, SETTLE } from "../../schema/metrics";
import {
	COUNT,
	countIf,
	dataset,
	literal,
	quantile,
	type TimeWindow,
	within,
} from "../cloudflare/analytics-sql";
import { type CloudflareApi, numberOf, type SqlRow } from "../cloudflare/api";

/** What the alerts watch, for one environment. */
export interface AlertTarget {
	/** e.g. "production". */
	environment: string;
	/** The Analytics Engine dataset the Workers write into. */
	dataset: string;
	/** Script names of the Workers (GraphQL filters on them). */
	edgeScript: string;
	/** The API Worker, behind the edge's service binding (api/wrangler.toml). */
	apiScript: string;
	consumerScript: string;
	/**
	 * The deposits queue (its backlog is the original's Celery queue length); its dead-letter
	 * queue is this name + "-dlq".
	 */
	queue: string;
	/**
	 * Concurrent database round trips the database is sized for: the original's pool of 20
	 * (DB_POOL_SIZE). Database utilisation is measured against it.
	 */
	dbCapacity: number;
	/** CPU time one invocation may use before it counts as "high CPU", ms. */
	cpuBudgetMs: number;
	/**
	 * Only the data points of this Worker version (the console's canary-against-stable view
	 * reads each version through the same queries the rules use). All versions when absent.
	 */
	version?: string;
}

/** Figures of one signal; null where there was nothing to measure (no traffic). */
export type Figures = Record<string, number | null>;

export type SignalName =
	| "http"
	| "webhook"
	| "refusals"
	| "settle"
	| "database"
	| "ledger"
	| "queue"
	| "invocations";

/** How to read each signal, and which figures it yields. */
interface Signal {
	fields: readonly string[];
	read(api: CloudflareApi, target: AlertTarget, window: TimeWindow): Promise<Figures>;
}

/** `AND` the version filter, when the target is one Worker version. */
function ofVersion(target: AlertTarget): string {
	return target.version === undefined ? "" : ` AND ${COMMON.versionId} = ${literal(target.version)}`;
}

const seconds = (w: TimeWindow) => (w.to.getTime() - w.from.getTime()) / 1000;

async function one(api: CloudflareApi, query: string): Promise<SqlRow | undefined> {
	return (await api.sql(query))[0];
}

/** Ratio, or null when the denominator is empty (0/0 is "no data", as in Prometheus). */
const ratio = (a: number | null, b: number | null) => (a === null || !b ? null : a / b);

const http: Signal = {
	fields: ["requests", "errorRate", "p95Ms", "p99Ms", "avgMs", "enqueueFailedPerSecond", "accountLocked"],
	async read(api, target, window) {
		const row = await one(
			api,
			`SELECT ${COUNT} AS requests,
  ${countIf(`${REQUEST.status} >= 500`)} AS errors_5xx,
  SUM(_sample_interval * ${REQUEST.latencyMs}) AS latency_ms_total,
  ${quantile(0.95, REQUEST.latencyMs)} AS p95_ms,
  ${quantile(0.99, REQUEST.latencyMs)} AS p99_ms,
  SUM(_sample_interval * ${REQUEST.enqueueFailed}) AS enqueue_failed,
  ${countIf(`${REQUEST.errorCode} = ${literal("account_locked")}`)} AS account_locked
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("request")}${ofVersion(target)} AND ${within(window)}
FORMAT JSON`,
		);
		const requests = numberOf(row, "requests") ?? 0;
		const seen = requests > 0;
		return {
			requests,
			errorRate: ratio(numberOf(row, "errors_5xx"), requests),
			p95Ms: seen ? numberOf(row, "p95_ms") : null,
			p99Ms: seen ? numberOf(row, "p99_ms") : null,
			avgMs: ratio(numberOf(row, "latency_ms_total"), requests),
			enqueueFailedPerSecond: (numberOf(row, "enqueue_failed") ?? 0) / seconds(window),
			/** Logins refused because their account name was locked (api/src/lib/login-throttle.ts). */
			accountLocked: numberOf(row, "account_locked") ?? 0,
		};
	},
};

const webhook: Signal = {
	fields: ["requests", "p95Ms"],
	async read(api, target, window) {
		const row = await one(
			api,
			`SELECT ${COUNT} AS requests,
  ${quantile(0.95, REQUEST.latencyMs)} AS p95_ms
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("request")} AND ${REQUEST.route} LIKE ${literal("/api/v1/webhooks/%")}${ofVersion(target)} AND ${within(window)}
FORMAT JSON`,
		);
		const requests = numberOf(row, "requests") ?? 0;
		return { requests, p95Ms: requests > 0 ? numberOf(row, "p95_ms") : null };
	},
};

/**
 * HTTP statuses that mean a webhook was refused for what it carried or how it was signed: a
 * sender whose secret rotation went wrong gets 401, a wrong content type 415, a body the
 * contract refuses 400 / 413 / 422. Not 429 (rate limited) or 503 (ours to fix): the sender
 * retries those and loses nothing.
 */
export const REFUSAL_STATUSES = [400, 401, 403, 413, 415, 422] as const;

/** Refused webhooks of one source, status and reason over a window. */
export interface Refusal {
	/** The webhook source ("" when none could be told, e.g. no signature header at all). */
	source: string;
	status: number;
	/** REQUEST.reason, e.g. "signature_mismatch". */
	reason: string;
	count: number;
}

/**
 * Refused webhooks by source, status and reason (at most 100 groups, the largest first): the
 * console's watch page lists them, and the `refusals` signal takes its figures from the same
 * rows, so the page and the rule never disagree.
 */
export async function readRefusals(
	api: CloudflareApi,
	target: AlertTarget,
	window: TimeWindow,
): Promise<Refusal[]> {
	const rows = await api.sql(
		`SELECT ${REQUEST.source} AS source,
  ${REQUEST.status} AS status,
  ${REQUEST.reason} AS reason,
  ${COUNT} AS refused
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("request")} AND ${REQUEST.route} LIKE ${literal("/api/v1/webhooks/%")} AND ${REQUEST.status} IN (${REFUSAL_STATUSES.join(", ")})${ofVersion(target)} AND ${within(window)}
GROUP BY source, status, reason
ORDER BY refused DESC
LIMIT 100
FORMAT JSON`,
	);
	return rows.map((row) => ({
		source: typeof row.source === "string" ? row.source : "",
		status: numberOf(row, "status") ?? 0,
		reason: typeof row.reason === "string" ? row.reason : "",
		count: numberOf(row, "refused") ?? 0,
	}));
}

const refusals: Signal = {
	fields: ["refused", "worstSourceRefused"],
	async read(api, target, window) {
		const bySource = new Map<string, number>();
		let refused = 0;
		for (const r of await readRefusals(api, target, window)) {
			refused += r.count;
			bySource.set(r.source, (bySource.get(r.source) ?? 0) + r.count);
		}
		// No refusal is a figure (0), not "no data": the rule is ok, not silent.
		return { refused, worstSourceRefused: Math.max(0, ...bySource.values()) };
	},
};

/**
 * Settle outcomes that mean the message was not settled this time: retried for the database
 * or for its chain's endpoints, or dead-lettered.
 */
export const SETTLE_FAILURES = ["retry", "chain_unavailable", "dead_letter"] as const;

/**
 * Settle outcomes where the chain contradicted the ledger's claim: a deposit held for review
 * (`held`), a credit the re-check found described otherwise on chain (`chain_disagrees`).
 */
const CHAIN_MISMATCHES = ["held", "chain_disagrees"] as const;

const settle: Signal = {
	fields: [
		"messages",
		"failuresPerSecond",
		"lagP95Ms",
		"lastNetMessages",
		"chainMismatches",
		"chainUnavailablePerSecond",
	],
	async read(api, target, window) {
		const failed = `${SETTLE.outcome} IN (${SETTLE_FAILURES.map(literal).join(", ")})`;
		const row = await one(
			api,
			`SELECT ${COUNT} AS messages,
  ${countIf(failed)} AS failures,
  ${countIf(`${SETTLE.outcome} = ${literal("last_net")}`)} AS last_net,
  ${quantile(0.95, SETTLE.lagMs)} AS lag_p95_ms,
  ${countIf(`${SETTLE.outcome} IN (${CHAIN_MISMATCHES.map(literal).join(", ")})`)} AS chain_mismatches,
  ${countIf(`${SETTLE.outcome} = ${literal("chain_unavailable")}`)} AS chain_unavailable
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("settle")}${ofVersion(target)} AND ${within(window)}
FORMAT JSON`,
		);
		const messages = numberOf(row, "messages") ?? 0;
		return {
			messages,
			failuresPerSecond: (numberOf(row, "failures") ?? 0) / seconds(window),
			lagP95Ms: messages > 0 ? numberOf(row, "lag_p95_ms") : null,
			// Dead letters Postgres could not take on their last deliveries, kept in R2.
			lastNetMessages: numberOf(row, "last_net") ?? 0,
			chainMismatches: numberOf(row, "chain_mismatches") ?? 0,
			chainUnavailablePerSecond: (numberOf(row, "chain_unavailable") ?? 0) / seconds(window),
		};
	},
};

const database: Signal = {
	fields: ["utilization"],
	async read(api, target, window) {
		const row = await one(
			api,
			`SELECT ${COUNT} AS batches,
  SUM(_sample_interval * ${BATCH.dbMs}) AS db_ms_total
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("batch")} AND ${within(window)}
FORMAT JSON`,
		);
		// Little's law: total round-trip time over the window = mean round trips in flight.
		const busyMs = numberOf(row, "db_ms_total") ?? 0;
		return { utilization: busyMs / (seconds(window) * 1000) / target.dbCapacity };
	},
};

/** Latest value in the window of a gauge column, and its growth (latest minus earliest). */
const latest = (column: string) => `argMax(${column}, timestamp)`;
const growth = (column: string) => `argMax(${column}, timestamp) - argMin(${column}, timestamp)`;

/**
 * What waits in Postgres for an operator, from the consumer's once-a-minute `ledger` points
 * (queue-consumer/src/ledger-gauges.ts). A queue "grows" by what it gained from the window's
 * first point to its last; an operator clearing items meanwhile offsets new ones. No point in
 * the window (the consumer's cron not running) is no data, never a healthy zero.
 */
const ledger: Signal = {
	fields: [
		"oldestPendingMinutes",
		"unmatchedGrowth",
		"conflictsGrowth",
		"shortfallsGrowth",
		"deadLettersGrowth",
		"emptyPools",
	],
	async read(api, target, window) {
		const row = await one(
			api,
			`SELECT ${COUNT} AS points,
  ${latest(LEDGER.oldestPendingMinutes)} AS oldest_pending_minutes,
  ${growth(LEDGER.unmatched)} AS unmatched_growth,
  ${growth(LEDGER.conflicts)} AS conflicts_growth,
  ${growth(LEDGER.shortfalls)} AS shortfalls_growth,
  ${growth(LEDGER.deadLetters)} AS dead_letters_growth,
  ${latest(LEDGER.emptyPools)} AS empty_pools
FROM ${dataset(target.dataset)}
WHERE ${COMMON.kind} = ${literal("ledger")} AND ${within(window)}
FORMAT JSON`,
		);
		const seen = (numberOf(row, "points") ?? 0) > 0;
		const figure = (column: string) => (seen ? numberOf(row, column) : null);
		return {
			oldestPendingMinutes: figure("oldest_pending_minutes"),
			unmatchedGrowth: figure("unmatched_growth"),
			conflictsGrowth: figure("conflicts_growth"),
			shortfallsGrowth: figure("shortfalls_growth"),
			deadLettersGrowth: figure("dead_letters_growth"),
			emptyPools: figure("empty_pools"),
		};
	},
};

// The deposits queue and its dead-letter queue (the deposits queue's name + "-dlq") in one query.
const QUEUE_BACKLOG = `query QueueBacklog($accountTag: string!, $queueId: string!, $deadLetterQueueId: string!, $from: Time!, $to: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      queueBacklogAdaptiveGroups(limit: 1, filter: { queueId: $queueId, datetime_geq: $from, datetime_lt: $to }) {
        avg { messages bytes }
      }
      deadLetters: queueBacklogAdaptiveGroups(limit: 1, filter: { queueId: $deadLetterQueueId, datetime_geq: $from, datetime_lt: $to }) {
        avg { messages bytes }
      }
    }
  }
}`;

type BacklogGroup = { avg: { messages: number; bytes: number } };

interface QueueBacklogData {
	viewer: { accounts: { queueBacklogAdaptiveGroups: BacklogGroup[]; deadLetters?: BacklogGroup[] }[] };
}

/** Queue ids by name: they do not change, so one lookup per process (or Worker isolate) is enough. */
const queueIds = new Map<string, Promise<string>>();

function lookUpQueueId(api: CloudflareApi, name: string): Promise<string> {
	let id = queueIds.get(name);
	if (!id) {
		id = api.queueId(name);
		queueIds.set(name, id);
		id.catch(() => queueIds.delete(name));
	}
	return id;
}

const queue: Signal = {
	fields: ["backlogMessages", "deadLetterBacklogMessages"],
	async read(api, target, window) {
		const data = await api.graphql<QueueBacklogData>(QUEUE_BACKLOG, {
			accountTag: api.accountId,
			queueId: await lookUpQueueId(api, target.queue),
			deadLetterQueueId: await lookUpQueueId(api, `${target.queue}-dlq`),
			from: window.from.toISOString(),
			to: window.to.toISOString(),
		});
		const account = data.viewer.accounts[0];
		const group = account?.queueBacklogAdaptiveGroups[0];
		const deadLetters = account?.deadLetters?.[0];
		// An idle queue reports no groups at all: that is no data, not an empty queue.
		return {
			backlogMessages: group ? group.avg.messages : null,
			deadLetterBacklogMessages: deadLetters ? deadLetters.avg.messages : null,
		};
	},
};

const INVOCATIONS = `query WorkerInvocations($accountTag: string!, $edge: string!, $api: string!, $consumer: string!, $from: Time!, $to: Time!) {
  viewer {
    accounts(filter: { accountTag: $accountTag }) {
      edge: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $edge, datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
        quantiles { cpuTimeP99 }
      }
      api: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $api, datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
        quantiles { cpuTimeP99 }
      }
      consumer: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $consumer, datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
        quantiles { cpuTimeP99 }
      }
      edgeExceeded: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $edge, status: "exceededResources", datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
      }
      apiExceeded: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $api, status: "exceededResources", datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
      }
      consumerExceeded: workersInvocationsAdaptive(limit: 1, filter: { scriptName: $consumer, status: "exceededResources", datetime_geq: $from, datetime_lt: $to }) {
        sum { requests }
      }
    }
  }
}`;

interface InvocationGroup {
	sum: { requests: number };
	quantiles?: { cpuTimeP99: number };
}

interface InvocationsData {
	viewer: {
		accounts: {
			edge: InvocationGroup[];
			api: InvocationGroup[];
			consumer: InvocationGroup[];
			edgeExceeded: InvocationGroup[];
			apiExceeded: InvocationGroup[];
			consumerExceeded: InvocationGroup[];
		}[];
	};
}

const invocations: Signal = {
	fields: ["cpuP99Ms", "cpuBudgetRatio", "exceededResources"],
	async read(api, target, window) {
		const data = await api.graphql<InvocationsData>(INVOCATIONS, {
			accountTag: api.accountId,
			edge: target.edgeScript,
			api: target.apiScript,
			consumer: target.consumerScript,
			from: window.from.toISOString(),
			to: window.to.toISOString(),
		});
		const account = data.viewer.accounts[0];
		// cpuTimeP99 is in microseconds.
		const p99s = [account?.edge[0], account?.api[0], account?.consumer[0]]
			.filter((g): g is InvocationGroup => !!g && g.sum.requests > 0 && g.quantiles !== undefined)
			.map((g) => (g.quantiles?.cpuTimeP99 ?? 0) / 1000);
		const cpuP99Ms = p99s.length ? Math.max(...p99s) : null;
		return {
			cpuP99Ms,
			cpuBudgetRatio: cpuP99Ms === null ? null : cpuP99Ms / target.cpuBudgetMs,
			exceededResources: [
				...(account?.edgeExceeded ?? []),
				...(account?.apiExceeded ?? []),
				...(account?.consumerExceeded ?? []),
			].reduce((n, g) => n + g.sum.requests, 0),
		};
	},
};

/** Every signal by name. */
export const SIGNALS: Record<SignalName, Signal> = {
	http,
	webhook,
	refusals,
	settle,
	database,
	ledger,
	queue,
	invocations,
};

/** Reads one signal over one window. */
export function readSignal(
	name: SignalName,
	api: CloudflareApi,
	target: AlertTarget,
	window: TimeWindow,
): Promise<Figures> {
	return SIGNALS[name].read(api, target, window);
}
