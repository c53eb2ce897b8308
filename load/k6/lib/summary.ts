/**
 * `handleSummary`: the whole k6 result as JSON (for dashboards and comparisons between runs)
 * and a short readable summary of what matters for deposits, on stdout and in a text file.
 *
 * Thresholds are listed as k6 judged them (its exit code follows them), each with a note when
 * its metric had no samples: k6 then passes a rate threshold it cannot evaluate, so a reader
 * must see that nothing was measured.
 *
 * @module
 */

/** The parts of k6's summary data this module reads. */
interface SummaryMetric {
	type: "counter" | "gauge" | "rate" | "trend";
	values: Record<string, number>;
	thresholds?: Record<string, { ok: boolean }>;
}
export interface SummaryData {
	metrics: Record<string, SummaryMetric | undefined>;
	state?: { testRunDurationMs?: number };
}

const ms = (v: number | undefined) => (v === undefined ? "-" : `${v.toFixed(v < 10 ? 2 : 0)} ms`);
const pct = (v: number | undefined) => (v === undefined ? "-" : `${(v * 100).toFixed(3)} %`);
const count = (v: number | undefined) => (v === undefined ? "0" : String(Math.round(v)));

/** True when the metric certainly had no sample (rates and trends say so; counters and gauges cannot). */
function withoutSamples(metric: SummaryMetric | undefined): boolean {
	if (!metric) return true;
	const v = metric.values;
	if (metric.type === "rate") return (v.passes ?? 0) + (v.fails ?? 0) === 0;
	if (metric.type === "trend") return v.count === 0;
	return false;
}

function trendLine(data: SummaryData, name: string, label: string): string {
	const metric = data.metrics[name];
	if (withoutSamples(metric)) return `${label.padEnd(28)} (no samples)`;
	const v = metric?.values ?? {};
	return `${label.padEnd(28)} p50 ${ms(v.med)}  p95 ${ms(v["p(95)"])}  p99 ${ms(v["p(99)"])}  max ${ms(v.max)}`;
}

function settlementLines(m: SummaryData["metrics"]): string[] {
	if (!m.deposits_checked || withoutSamples(m.deposits_settled)) {
		return ["settlement verdict           FAIL: the settlement check did not finish (see its log above)"];
	}
	const verdict = m.settlement_verdict?.values.value === 1;
	return [
		`settlement verdict           ${verdict ? "PASS" : "FAIL"}: ${count(m.deposits_checked.values.count)} deposits checked, ${pct(m.deposits_settled?.values.rate)} credited exactly once`,
		`  not credited ${count(m.deposits_not_credited?.values.count)}, credited twice ${count(m.deposits_credited_twice?.values.count)}, wrong amount / player / reversed ${count(m.deposits_miscredited?.values.count)}, wallets not matching their ledger ${count(m.wallets_mismatched?.values.count)}`,
		trendLine(
			{ metrics: m },
			"settle_drain_ms",
			(m.deposits_not_credited?.values.count ?? 0) > 0
				? "not drained after the load"
				: "last credit after the load",
		),
	];
}

/** The readable summary. */
export function textSummary(data: SummaryData, title: string): string {
	const m = data.metrics;
	const seconds = (data.state?.testRunDurationMs ?? 0) / 1000;
	const webhooks = m.webhooks_sent?.values.count;
	const lines = [
		title,
		"",
		`duration                     ${seconds.toFixed(0)} s`,
		`webhooks sent                ${count(webhooks)} (${seconds ? ((webhooks ?? 0) / seconds).toFixed(1) : "-"}/s), of which redeliveries ${count(m.webhook_redeliveries?.values.count)}`,
		`deposits created             ${count(m.deposits_created?.values.count)}`,
		`webhooks accepted (2xx)      ${pct(m.webhook_accepted?.values.rate)}; refused or failed ${count(m.webhook_refused?.values.count)}`,
		trendLine(data, "webhook_ack_ms", "webhook ack"),
		trendLine(data, "health_ms", "health"),
		trendLine(data, "http_req_duration", "all HTTP"),
		`dropped iterations           ${count(m.dropped_iterations?.values.count)}`,
		...settlementLines(m),
	];
	lines.push("", "thresholds:");
	let failed = 0;
	for (const [name, metric] of Object.entries(m)) {
		for (const [expression, result] of Object.entries(metric?.thresholds ?? {})) {
			if (!result.ok) failed++;
			const note = withoutSamples(metric) ? "  (no samples)" : "";
			lines.push(`  ${result.ok ? "ok  " : "FAIL"} ${name}: ${expression}${note}`);
		}
	}
	lines.push("", failed === 0 ? "all thresholds passed" : `${failed} threshold(s) FAILED`, "");
	return lines.join("\n");
}
