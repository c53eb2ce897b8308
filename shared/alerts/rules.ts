/**
 * The alert rules: the original platform's fifteen Prometheus rules, each mapped onto a figure
 * of a signal (signals.ts) with the original's threshold and `for` window, and the rules this
 * system adds for what the original did not watch (they have no `original`). The CLI
 * (`ops alerts`) and the scheduled alerts Worker evaluate this same list.
 *
 * Every rule looks at a 5-minute window, as the original's `rate(...[5m])` and
 * `avg_over_time(...[5m])` did, and fires only when its condition has held at every
 * one-minute evaluation over its `for` duration. Two rules measure host resources that a
 * Worker does not have; they are mapped to the nearest signal Workers do report (see
 * docs/alerts.md).
 *
 * @module
 */
import type { AlertTarget, SignalName } from "./signals";

export type Severity = "warning" | "critical";

/** How a rule's figure is shown and exported. */
export type Unit = "ms" | "ratio" | "per_second" | "messages" | "count";

export interface AlertRule {
	/** The alert name, as routed and silenced. */
	name: string;
	severity: Severity;
	/** Where the figure comes from. */
	signal: SignalName;
	/** Which figure of the signal. */
	field: string;
	/** The rule fires when the figure is above this (all original rules compare with `>`). */
	threshold: number;
	unit: Unit;
	/** Minutes the condition must hold before the rule fires (Prometheus `for`). */
	forMinutes: number;
	/** Length of the window each evaluation looks at, minutes. */
	windowMinutes: number;
	summary: string;
	/** What the operator on call does first (rules added here; the original's have it in docs/runbook.md). */
	runbook?: string;
	/** The rule it replaces in the original's monitoring/prometheus/alerts/cricalgo_alerts.yaml (none for rules added here). */
	original?: { name: string; expr: string; for: string };
	/** The gauge this figure is exported as in Prometheus text format (`ops alerts --format prometheus`). */
	metric: {
		name: string;
		help: string;
		labels?: (target: AlertTarget) => Record<string, string>;
		scale?: number;
	};
}

const WINDOW = 5;
const SECONDS = 0.001;

const httpLatency = (quantile: string) => ({
	name: "http_request_duration_seconds",
	help: "HTTP response time (edge and API Workers) over the last 5 minutes, by quantile.",
	labels: () => ({ quantile }),
	scale: SECONDS,
});
const errorRatio = {
	name: "http_requests_5xx_ratio",
	help: "Share of HTTP responses (edge and API Workers) with a 5xx status over the last 5 minutes.",
};
const backlog = {
	name: "queue_backlog_messages",
	help: "Average number of messages waiting in the deposits queue over the last 5 minutes.",
	labels: (t: AlertTarget) => ({ queue: t.queue }),
};
const dbUtilization = {
	name: "db_pool_utilization_ratio",
	help: "Mean concurrent database round trips of settlement over the last 5 minutes, as a share of the capacity (the original pool size).",
};
const exceeded = {
	name: "worker_exceeded_resources",
	help: "Invocations of either Worker stopped by the runtime for exceeding a limit (CPU, memory) over the last 5 minutes.",
};

/** The fifteen rules, in the original file's order, then the ones added here. */
export const RULES: readonly AlertRule[] = [
	{
		name: "HTTPHighP95",
		severity: "warning",
		signal: "http",
		field: "p95Ms",
		threshold: 2000,
		unit: "ms",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "HTTP p95 latency above 2 s",
		original: {
			name: "HTTPHighP95",
			expr: "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket[5m])) by (le)) > 2",
			for: "5m",
		},
		metric: httpLatency("0.95"),
	},
	{
		name: "HTTPHighP99",
		severity: "critical",
		signal: "http",
		field: "p99Ms",
		threshold: 5000,
		unit: "ms",
		forMinutes: 3,
		windowMinutes: WINDOW,
		summary: "HTTP p99 latency above 5 s",
		original: {
			name: "HTTPHighP99",
			expr: "histogram_quantile(0.99, sum(rate(http_request_duration_seconds_bucket[5m])) by (le)) > 5",
			for: "3m",
		},
		metric: httpLatency("0.99"),
	},
	{
		name: "HTTPHighAvg",
		severity: "warning",
		signal: "http",
		field: "avgMs",
		threshold: 1000,
		unit: "ms",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "HTTP average latency above 1 s",
		original: {
			name: "HTTPHighAvg",
			expr: "sum(rate(http_request_duration_seconds_sum[5m])) / sum(rate(http_request_duration_seconds_count[5m])) > 1.0",
			for: "5m",
		},
		metric: {
			name: "http_request_duration_seconds_avg",
			help: "Edge Worker mean response time over the last 5 minutes.",
			scale: SECONDS,
		},
	},
	{
		name: "HighErrorRate",
		severity: "critical",
		signal: "http",
		field: "errorRate",
		threshold: 0.005,
		unit: "ratio",
		forMinutes: 2,
		windowMinutes: WINDOW,
		summary: "HTTP 5xx error rate above 0.5 %",
		original: {
			name: "HighErrorRate",
			expr: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.005',
			for: "2m",
		},
		metric: errorRatio,
	},
	{
		name: "ModerateErrorRate",
		severity: "warning",
		signal: "http",
		field: "errorRate",
		threshold: 0.001,
		unit: "ratio",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "HTTP 5xx error rate above 0.1 %",
		original: {
			name: "ModerateErrorRate",
			expr: 'sum(rate(http_requests_total{code=~"5.."}[5m])) / sum(rate(http_requests_total[5m])) > 0.001',
			for: "5m",
		},
		metric: errorRatio,
	},
	{
		name: "QueueDepthHigh",
		severity: "warning",
		signal: "queue",
		field: "backlogMessages",
		threshold: 50,
		unit: "messages",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "Deposits queue backlog above 50 messages",
		original: {
			name: "CeleryQueueDepthHigh",
			expr: "avg_over_time(celery_queue_length[5m]) > 50",
			for: "5m",
		},
		metric: backlog,
	},
	{
		name: "QueueDepthCritical",
		severity: "critical",
		signal: "queue",
		field: "backlogMessages",
		threshold: 200,
		unit: "messages",
		forMinutes: 2,
		windowMinutes: WINDOW,
		summary: "Deposits queue backlog above 200 messages",
		original: {
			name: "CeleryQueueDepthCritical",
			expr: "avg_over_time(celery_queue_length[5m]) > 200",
			for: "2m",
		},
		metric: backlog,
	},
	{
		name: "DatabaseSaturation",
		severity: "warning",
		signal: "database",
		field: "utilization",
		threshold: 0.9,
		unit: "ratio",
		forMinutes: 3,
		windowMinutes: WINDOW,
		summary: "Database round trips above 90 % of capacity",
		original: {
			name: "DatabasePoolExhausted",
			expr: "(db_pool_connections_active / db_pool_connections_max) > 0.9",
			for: "3m",
		},
		metric: dbUtilization,
	},
	{
		name: "DatabaseSaturationCritical",
		severity: "critical",
		signal: "database",
		field: "utilization",
		threshold: 0.95,
		unit: "ratio",
		forMinutes: 1,
		windowMinutes: WINDOW,
		summary: "Database round trips above 95 % of capacity",
		original: {
			name: "DatabasePoolCritical",
			expr: "(db_pool_connections_active / db_pool_connections_max) > 0.95",
			for: "1m",
		},
		metric: dbUtilization,
	},
	{
		name: "WebhookProcessingSlow",
		severity: "warning",
		signal: "webhook",
		field: "p95Ms",
		threshold: 1000,
		unit: "ms",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "Webhook p95 response time above 1 s",
		original: {
			name: "WebhookProcessingSlow",
			expr: "histogram_quantile(0.95, sum(rate(webhook_processing_duration_seconds_bucket[5m])) by (le)) > 1",
			for: "5m",
		},
		metric: {
			name: "webhook_processing_duration_seconds",
			help: "Webhook response time at the edge over the last 5 minutes, by quantile.",
			labels: () => ({ quantile: "0.95" }),
			scale: SECONDS,
		},
	},
	{
		name: "WebhookEnqueueFailed",
		severity: "critical",
		signal: "http",
		field: "enqueueFailedPerSecond",
		threshold: 0.1,
		unit: "per_second",
		forMinutes: 2,
		windowMinutes: WINDOW,
		summary: "Valid webhooks refused because the queue did not take them, above 0.1/s",
		original: {
			name: "WebhookEnqueueFailed",
			expr: "rate(webhook_enqueue_failed_total[5m]) > 0.1",
			for: "2m",
		},
		metric: {
			name: "webhook_enqueue_failed_per_second",
			help: "Valid webhooks answered 503 because the queue refused them, per second over the last 5 minutes.",
		},
	},
	{
		name: "DepositTaskSlow",
		severity: "warning",
		signal: "settle",
		field: "lagP95Ms",
		threshold: 30_000,
		unit: "ms",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "Deposit settlement p95 (webhook received → settled) above 30 s",
		original: {
			name: "DepositTaskSlow",
			expr: "histogram_quantile(0.95, sum(rate(deposit_task_duration_seconds_bucket[5m])) by (le)) > 30",
			for: "5m",
		},
		metric: {
			name: "deposit_settle_lag_seconds",
			help: "Time from the webhook's arrival at the edge to its settlement, over the last 5 minutes, by quantile.",
			labels: () => ({ quantile: "0.95" }),
			scale: SECONDS,
		},
	},
	{
		name: "DepositTaskFailed",
		severity: "critical",
		signal: "settle",
		field: "failuresPerSecond",
		threshold: 0.05,
		unit: "per_second",
		forMinutes: 3,
		windowMinutes: WINDOW,
		summary: "Deposit settlement failures (retried or dead-lettered) above 0.05/s",
		original: { name: "DepositTaskFailed", expr: "rate(deposit_task_failed_total[5m]) > 0.05", for: "3m" },
		metric: {
			name: "deposit_settle_failures_per_second",
			help: "Queue messages the consumer retried or dead-lettered, per second over the last 5 minutes.",
		},
	},
	{
		name: "WorkerCPUTimeHigh",
		severity: "warning",
		signal: "invocations",
		field: "cpuBudgetRatio",
		threshold: 0.8,
		unit: "ratio",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "Worker p99 CPU time per invocation above 80 % of the CPU budget",
		original: {
			name: "HighCPUUsage",
			expr: '(100 - (avg by (instance) (rate(node_cpu_seconds_total{mode="idle"}[5m])) * 100)) > 80',
			for: "5m",
		},
		metric: {
			name: "worker_cpu_time_budget_ratio",
			help: "p99 CPU time per invocation of the busier Worker over the last 5 minutes, as a share of the CPU budget.",
		},
	},
	{
		name: "WorkerExceededResources",
		severity: "warning",
		signal: "invocations",
		field: "exceededResources",
		threshold: 0,
		unit: "count",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary: "Worker invocations stopped for exceeding memory or CPU limits",
		original: {
			name: "HighMemoryUsage",
			expr: "(1 - (node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)) > 0.85",
			for: "5m",
		},
		metric: exceeded,
	},
	{
		name: "DepositChainMismatch",
		severity: "critical",
		signal: "settle",
		field: "chainMismatches",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"A deposit the chain contradicts (no such transaction, failed, other token, recipient or amount) was held for review, or a credit the re-check found described otherwise: a forged or wrong webhook, or a wrong chain configuration (review: deposits with status held, hold_reason chain_mismatch)",
		metric: {
			name: "deposit_chain_mismatches",
			help: "Deposits held because the chain contradicts them, and credits the re-check found described otherwise on chain, over the last 5 minutes.",
		},
	},
	{
		name: "ChainRpcUnavailable",
		severity: "warning",
		signal: "settle",
		field: "chainUnavailablePerSecond",
		threshold: 0,
		unit: "per_second",
		forMinutes: 3,
		windowMinutes: WINDOW,
		summary:
			"Deposits wait because no endpoint of their chain answered (CHAIN_RPC_URLS): they are retried with backoff and credited only once verified",
		metric: {
			name: "deposit_chain_unavailable_per_second",
			help: "Queue messages and re-checks the consumer could not verify because every endpoint of their chain failed, per second over the last 5 minutes.",
		},
	},
	{
		name: "LoginAccountLocked",
		severity: "warning",
		signal: "http",
		field: "accountLocked",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"Logins refused because an account was locked after repeated failures: someone is guessing a password or TOTP code (admins: admin.login_failed in the audit log)",
		metric: {
			name: "login_account_locked_refusals",
			help: "Login attempts refused because their account name was locked, over the last 5 minutes.",
		},
	},
	{
		name: "DeadLetterQueueBacklog",
		severity: "warning",
		signal: "queue",
		field: "deadLetterBacklogMessages",
		threshold: 0,
		unit: "messages",
		forMinutes: 10,
		windowMinutes: WINDOW,
		summary:
			"Messages wait in the dead-letter queue: the consumer cannot store them in Postgres (after about 23 hours they go to the last net); check the database",
		metric: {
			name: "dead_letter_queue_backlog_messages",
			help: "Average number of messages waiting in the dead-letter queue over the last 5 minutes.",
			labels: (t: AlertTarget) => ({ queue: `${t.queue}-dlq` }),
		},
	},
	{
		name: "DeadLetterLastNet",
		severity: "critical",
		signal: "settle",
		field: "lastNetMessages",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"Dead letters went to the last net (R2): Postgres could not take them on the dead-letter queue's last deliveries. Once the database is back: npm run ops -- dlq last-net --redrive",
		metric: {
			name: "dead_letter_last_net_messages",
			help: "Dead-letter-queue messages written to the R2 last net over the last 5 minutes.",
		},
	},
	{
		name: "WebhookRefusalSpike",
		severity: "critical",
		signal: "refusals",
		field: "worstSourceRefused",
		threshold: 20,
		unit: "count",
		forMinutes: 2,
		windowMinutes: WINDOW,
		summary:
			"One webhook source had more than 20 webhooks refused (400/401/403/413/415/422) in 5 minutes, for 2 minutes: its deposits are not reaching settlement",
		runbook:
			"Console → Watch → Refused webhooks names the source and reason. 401 signature_mismatch after a secret rotation: put the sender's new secret beside the old one in its secret binding (both are accepted) and redeploy; 415/422: the sender changed its payload, ask it (the sender retries, nothing is lost while it does)",
		metric: {
			name: "webhook_refused_worst_source",
			help: "Refused webhooks of the source with the most refusals, over the last 5 minutes.",
		},
	},
	{
		name: "DepositPendingTooLong",
		severity: "warning",
		signal: "ledger",
		field: "oldestPendingMinutes",
		threshold: 30,
		unit: "count",
		forMinutes: 5,
		windowMinutes: WINDOW,
		summary:
			"A deposit has been pending for more than 30 minutes (figure: the oldest one's age, minutes): its confirmations stopped growing, or its chain cannot be asked",
		runbook:
			"Console → Find the deposit (its page shows each delivery's confirmations and the threshold); ChainRpcUnavailable firing too means its chain's endpoints are down (CHAIN_RPC_URLS); otherwise the watcher stopped reporting it: ask the sender, the re-check credits it once the chain says it is final",
		metric: {
			name: "deposit_oldest_pending_minutes",
			help: "Age of the oldest deposit still pending, minutes (the consumer's last count in the window).",
		},
	},
	{
		name: "UnmatchedDepositsGrowing",
		severity: "warning",
		signal: "ledger",
		field: "unmatchedGrowth",
		threshold: 5,
		unit: "count",
		forMinutes: 10,
		windowMinutes: WINDOW,
		summary:
			"More than 5 deposits parked as unmatched in 5 minutes, for 10 minutes: deposits arrive for addresses no player holds",
		runbook:
			"Console → Unmatched: assign each to its player. Many to one address: an address handed out outside the pool (register it to its player, admin deposit-addresses); to many: the pool import is missing addresses the wallet issues (npm run ops -- addresses import)",
		metric: {
			name: "deposits_unmatched_growth",
			help: "Deposits parked as unmatched over the last 5 minutes, net of those assigned.",
		},
	},
	{
		name: "DepositConflictsGrowing",
		severity: "warning",
		signal: "ledger",
		field: "conflictsGrowth",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"A new conflict: a delivery named a known deposit with another amount or currency (recorded, never overwritten)",
		runbook:
			"Console → Conflicts: compare both sides with the chain (the deposit's page has its on-chain check) and resolve with a note; several from one sender: its payloads changed, ask it",
		metric: {
			name: "deposit_conflicts_growth",
			help: "Unresolved deposit conflicts added over the last 5 minutes.",
		},
	},
	{
		name: "ReversalShortfallsGrowing",
		severity: "critical",
		signal: "ledger",
		field: "shortfallsGrowth",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"A reorg reversed a credit the player had already spent: the reversal fell short and the player is frozen",
		runbook:
			"Console home shows the shortfalls; look the player up (Console → Find), recover the amount with the platform's team, then resolve the shortfall, which unfreezes the player (docs/runbook.md)",
		metric: {
			name: "reversal_shortfalls_growth",
			help: "Unresolved reversal shortfalls added over the last 5 minutes.",
		},
	},
	{
		name: "DeadLettersGrowing",
		severity: "warning",
		signal: "ledger",
		field: "deadLettersGrowth",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary: "A message settlement gave up on was stored in the dead letters: a deposit waits for a person",
		runbook:
			"Console → Dead letters: the reason says why; once its cause is fixed (database, configuration, the chain) redrive it, or the filtered set",
		metric: {
			name: "dead_letters_growth",
			help: "Dead letters stored (not redriven) over the last 5 minutes, net of those redriven.",
		},
	},
	{
		name: "AddressPoolEmpty",
		severity: "critical",
		signal: "ledger",
		field: "emptyPools",
		threshold: 0,
		unit: "count",
		forMinutes: 0,
		windowMinutes: WINDOW,
		summary:
			"A chain family's pool of deposit addresses is used up: players asking for an address get 503 until more are imported",
		runbook:
			"npm run ops -- addresses pool shows the counts per family; import the next addresses the platform's wallet generated: npm run ops -- addresses import <file> --family evm|tron",
		metric: {
			name: "address_pools_empty",
			help: "Address families (evm, tron) whose imported pool has no unissued address left.",
		},
	},
];

/** Formats a rule's figure in its unit, for tables and messages. */
export function formatValue(unit: Unit, value: number | null): string {
	if (value === null) return "no data";
	switch (unit) {
		case "ms":
			return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${Math.round(value)} ms`;
		case "ratio":
			return `${(value * 100).toFixed(value < 0.01 ? 3 : 1)} %`;
		case "per_second":
			return `${value.toFixed(3)}/s`;
		case "messages":
			return `${Math.round(value)} msgs`;
		case "count":
			return String(Math.round(value));
	}
}
