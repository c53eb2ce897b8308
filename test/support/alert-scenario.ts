/**
 * Analytics answers for alert tests, in the shapes the Analytics Engine SQL API and the
 * GraphQL Analytics API return, for the Cloudflare stand-in (ops/test/support/). `healthy()`
 * answers every signal with figures far from any threshold; `degrade()` puts other figures in
 * front of it for windows ending at or after a time, so a condition can be made to hold for a
 * chosen number of minutes. Plain data only, so tests inside workerd can send it over HTTP.
 *
 * @module
 */

/** One scripted analytics answer (see the stand-in's documentation). */
export interface ScenarioEntry {
	api: "sql" | "graphql";
	contains?: string[];
	windowEndFrom?: number;
	windowEndBefore?: number;
	times?: number;
	status?: number;
	rows?: Record<string, string | number | null>[];
	data?: unknown;
}

/** Figures per signal, as the queries name their columns / GraphQL fields. */
interface SignalAnswers {
	http: {
		requests: number;
		errors_5xx: number;
		latency_ms_total: number;
		p95_ms: number;
		p99_ms: number;
		enqueue_failed: number;
	};
	webhook: { requests: number; p95_ms: number };
	/** Refused webhooks, one row per source, status and reason. */
	refusals: { source: string; status: number; reason: string; refused: number }[];
	settle: { messages: number; failures: number; lag_p95_ms: number };
	database: { batches: number; db_ms_total: number };
	/** The consumer's ledger gauges over the window: the oldest pending deposit, growth of each queue. */
	ledger: {
		points: number;
		oldest_pending_minutes: number;
		unmatched_growth: number;
		conflicts_growth: number;
		shortfalls_growth: number;
		dead_letters_growth: number;
		empty_pools: number;
	};
	queue: { messages: number } | null;
	invocations: { edgeCpuP99Us: number; apiCpuP99Us: number; consumerCpuP99Us: number; exceeded: number };
}

/** Healthy figures for a 5-minute window: 40 req/s, 80 ms mean, DB at 10 % of 20. */
const HEALTHY: SignalAnswers = {
	http: {
		requests: 12_000,
		errors_5xx: 2,
		latency_ms_total: 960_000,
		p95_ms: 150,
		p99_ms: 400,
		enqueue_failed: 0,
	},
	webhook: { requests: 9_000, p95_ms: 120 },
	// Now and then a sender's malformed body; nothing near a spike.
	refusals: [{ source: "cricalgo", status: 422, reason: "validation_failed", refused: 2 }],
	settle: { messages: 9_000, failures: 0, lag_p95_ms: 1_800 },
	database: { batches: 300, db_ms_total: 600_000 },
	ledger: {
		points: 5,
		oldest_pending_minutes: 2,
		unmatched_growth: 1,
		conflicts_growth: 0,
		shortfalls_growth: 0,
		dead_letters_growth: 0,
		empty_pools: 0,
	},
	queue: { messages: 3 },
	invocations: { edgeCpuP99Us: 4_000, apiCpuP99Us: 8_000, consumerCpuP99Us: 12_000, exceeded: 0 },
};

/** Which query is which: substrings only that signal's query contains. */
const MATCH: Record<keyof SignalAnswers, { api: "sql" | "graphql"; contains: string[] }> = {
	http: { api: "sql", contains: ["blob1 = 'request'", "errors_5xx"] },
	webhook: { api: "sql", contains: ["LIKE '/api/v1/webhooks/%'", "p95_ms"] },
	refusals: { api: "sql", contains: ["AS refused"] },
	settle: { api: "sql", contains: ["blob1 = 'settle'", "lag_p95_ms"] },
	database: { api: "sql", contains: ["blob1 = 'batch'"] },
	ledger: { api: "sql", contains: ["blob1 = 'ledger'"] },
	queue: { api: "graphql", contains: ["queueBacklogAdaptiveGroups"] },
	invocations: { api: "graphql", contains: ["workersInvocationsAdaptive"] },
};

const str = (n: number) => String(n);

function answer<K extends keyof SignalAnswers>(signal: K, figures: SignalAnswers[K]): Partial<ScenarioEntry> {
	switch (signal) {
		case "http": {
			const f = figures as SignalAnswers["http"];
			return {
				rows: [
					{
						requests: str(f.requests),
						errors_5xx: str(f.errors_5xx),
						latency_ms_total: f.latency_ms_total,
						p95_ms: f.p95_ms,
						p99_ms: f.p99_ms,
						enqueue_failed: f.enqueue_failed,
					},
				],
			};
		}
		case "webhook": {
			const f = figures as SignalAnswers["webhook"];
			return { rows: [{ requests: str(f.requests), p95_ms: f.p95_ms }] };
		}
		case "refusals": {
			const f = figures as SignalAnswers["refusals"];
			return { rows: f.map((r) => ({ ...r, refused: str(r.refused) })) };
		}
		case "settle": {
			const f = figures as SignalAnswers["settle"];
			return { rows: [{ messages: str(f.messages), failures: str(f.failures), lag_p95_ms: f.lag_p95_ms }] };
		}
		case "database": {
			const f = figures as SignalAnswers["database"];
			return { rows: [{ batches: str(f.batches), db_ms_total: f.db_ms_total }] };
		}
		case "ledger": {
			const f = figures as SignalAnswers["ledger"];
			return { rows: [{ ...f, points: str(f.points) }] };
		}
		case "queue": {
			const f = figures as SignalAnswers["queue"];
			const groups = f ? [{ avg: { messages: f.messages, bytes: f.messages * 400 } }] : [];
			return { data: { viewer: { accounts: [{ queueBacklogAdaptiveGroups: groups }] } } };
		}
		default: {
			const f = figures as SignalAnswers["invocations"];
			return {
				data: {
					viewer: {
						accounts: [
							{
								edge: [{ sum: { requests: 12_000 }, quantiles: { cpuTimeP99: f.edgeCpuP99Us } }],
								api: [{ sum: { requests: 2_000 }, quantiles: { cpuTimeP99: f.apiCpuP99Us } }],
								consumer: [{ sum: { requests: 300 }, quantiles: { cpuTimeP99: f.consumerCpuP99Us } }],
								edgeExceeded: f.exceeded ? [{ sum: { requests: f.exceeded } }] : [],
								apiExceeded: [],
								consumerExceeded: [],
							},
						],
					},
				},
			};
		}
	}
}

/** Entries answering every signal with `figures` (default: healthy). Put degrade() entries first. */
export function healthy(figures: SignalAnswers = HEALTHY): ScenarioEntry[] {
	return (Object.keys(MATCH) as (keyof SignalAnswers)[]).map((signal) => ({
		...MATCH[signal],
		...answer(signal, figures[signal]),
	}));
}

/** An entry answering one signal with other figures, for windows ending at or after `fromUnix`. */
export function degrade<K extends keyof SignalAnswers>(
	signal: K,
	figures: Partial<NonNullable<SignalAnswers[K]>>,
	fromUnix?: number,
): ScenarioEntry {
	const base = HEALTHY[signal];
	return {
		...MATCH[signal],
		...(fromUnix === undefined ? {} : { windowEndFrom: fromUnix }),
		// A list (refusals) is replaced whole; figures are merged into the healthy ones.
		...answer(signal, (Array.isArray(base) ? figures : { ...(base ?? {}), ...figures }) as SignalAnswers[K]),
	};
}

/** An entry making one signal's query fail with an HTTP status. */
export function failing(signal: keyof SignalAnswers, status = 500): ScenarioEntry {
	return { ...MATCH[signal], status };
}

/** The filter the version-narrowed queries carry. */
export const onlyVersion = (id: string) => `blob3 = '${id}'`;

/**
 * The console's watch page: answers for each version's queries (they match first: they name
 * the version), a refusal spike of one source (its secret rotated on one side only), then the
 * rules' healthy figures.
 */
export function watchScenario(v: {
	stable: string;
	canary: string;
	api: string;
	consumer: string;
}): ScenarioEntry[] {
	return [
		// The rollout gate's query: both edge versions grouped (shared/rollout/figures.ts).
		{
			api: "sql",
			contains: ["GROUP BY version", "blob1 = 'request'"],
			rows: [
				{ version: v.canary, requests: "1000", errors: "20", p95_ms: 2600, p99_ms: 4100 },
				{ version: v.stable, requests: "9000", errors: "9", p95_ms: 140, p99_ms: 380 },
			],
		},
		{
			api: "sql",
			contains: ["errors_5xx", onlyVersion(v.stable)],
			rows: [
				{
					requests: "9000",
					errors_5xx: "9",
					latency_ms_total: 720000,
					p95_ms: 140,
					p99_ms: 380,
					enqueue_failed: 0,
				},
			],
		},
		{
			api: "sql",
			contains: ["errors_5xx", onlyVersion(v.canary)],
			rows: [
				{
					requests: "1000",
					errors_5xx: "20",
					latency_ms_total: 300000,
					p95_ms: 2600,
					p99_ms: 4100,
					enqueue_failed: 0,
				},
			],
		},
		{
			api: "sql",
			contains: ["errors_5xx", onlyVersion(v.api)],
			rows: [
				{
					requests: "2400",
					errors_5xx: "0",
					latency_ms_total: 168000,
					p95_ms: 180,
					p99_ms: 460,
					enqueue_failed: 0,
				},
			],
		},
		{
			api: "sql",
			contains: ["p95_ms", "LIKE", onlyVersion(v.stable)],
			rows: [{ requests: "7000", p95_ms: 95 }],
		},
		{
			api: "sql",
			contains: ["p95_ms", "LIKE", onlyVersion(v.canary)],
			rows: [{ requests: "800", p95_ms: 1250 }],
		},
		{
			api: "sql",
			contains: ["lag_p95_ms", onlyVersion(v.consumer)],
			rows: [{ messages: "7800", failures: "0", lag_p95_ms: 1700 }],
		},
		// The original senders' secret was rotated on one side only: every one of them is refused.
		{
			api: "sql",
			contains: ["AS refused"],
			rows: [
				{ source: "original", status: 401, reason: "signature_mismatch", refused: "37" },
				{ source: "cricalgo", status: 422, reason: "validation_failed", refused: "2" },
			],
		},
		...healthy(),
	];
}
