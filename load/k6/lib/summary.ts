/**
 * `handleSummary`: the whole k6 result as JSON (for dashboards and comparisons between runs)
 * and a short readable summary of what matters for deposits, on stdout and in a text file.
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

function trendLine(data: SummaryData, name: string, label: string): string {
	const v = data.metrics[name]?.values;
	if (!v) return `${label.padEnd(28)} (no samples)`;
	return `${label.padEnd(28)} p50 ${ms(v.med)}  p95 ${ms(v["p(95)"])}  p99 ${ms(v["p(99)"])}  max ${ms(v.max)}`;
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
	];
	if (m.deposits_settled) {
		lines.push(
			`deposits credited at end     ${pct(m.deposits_settled.values.rate)}; not credited ${count(m.deposits_not_credited?.values.count)}, unknown ${count(m.deposits_missing?.values.count)}`,
			trendLine(data, "settle_drain_ms", "settlement drained after"),
		);
	} else {
		lines.push("settlement check             skipped (no ADMIN_TOKEN)");
	}
	lines.push("", "thresholds:");
	let failed = 0;
	for (const [name, metric] of Object.entries(m)) {
		for (const [expression, result] of Object.entries(metric?.thresholds ?? {})) {
			if (!result.ok) failed++;
			lines.push(`  ${result.ok ? "ok  " : "FAIL"} ${name}: ${expression}`);
		}
	}
	lines.push("", failed === 0 ? "all thresholds passed" : `${failed} threshold(s) FAILED`, "");
	return lines.join("\n");
}
