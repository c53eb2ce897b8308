/**
 * Renders evaluations in the Prometheus text exposition format (version 0.0.4), so dashboards
 * and alert routing built on the original's metrics keep working: each rule's figure under the
 * gauge name the original's dashboards knew (in seconds where the original used seconds), and
 * an `ALERTS` series per pending or firing rule, as Prometheus itself exposes them.
 *
 * @module
 */
import type { RuleEvaluation } from "./evaluate";
import type { AlertTarget } from "./signals";

/** Escapes a label value as the text format requires. */
function escapeLabel(value: string): string {
	return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function labels(pairs: Record<string, string>): string {
	const body = Object.entries(pairs)
		.map(([k, v]) => `${k}="${escapeLabel(v)}"`)
		.join(",");
	return body ? `{${body}}` : "";
}

/**
 * The exposition text for one evaluation run.
 *
 * @example
 * ```ts
 * process.stdout.write(toPrometheusText(target, await evaluateRules(RULES, figures, at)));
 * ```
 */
export function toPrometheusText(target: AlertTarget, evaluations: readonly RuleEvaluation[]): string {
	const lines: string[] = [];
	const env = { environment: target.environment };

	// One gauge per metric name; two rules reading the same figure export it once.
	const families = new Map<string, { help: string; samples: Map<string, number> }>();
	for (const e of evaluations) {
		if (e.value === null) continue;
		const m = e.rule.metric;
		let family = families.get(m.name);
		if (!family) {
			family = { help: m.help, samples: new Map() };
			families.set(m.name, family);
		}
		family.samples.set(labels({ ...env, ...(m.labels?.(target) ?? {}) }), e.value * (m.scale ?? 1));
	}
	for (const [name, family] of families) {
		lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} gauge`);
		for (const [l, v] of family.samples) lines.push(`${name}${l} ${v}`);
	}

	lines.push(
		"# HELP ALERTS Alert rules that are pending or firing.",
		"# TYPE ALERTS gauge",
		...evaluations
			.filter((e) => e.state === "pending" || e.state === "firing")
			.map(
				(e) =>
					`ALERTS${labels({ alertname: e.rule.name, alertstate: e.state, severity: e.rule.severity, ...env })} 1`,
			),
		"# HELP cricalgo_alert_evaluation_ok 1 when the rule could be evaluated, 0 when its query failed.",
		"# TYPE cricalgo_alert_evaluation_ok gauge",
		...evaluations.map(
			(e) =>
				`cricalgo_alert_evaluation_ok${labels({ alertname: e.rule.name, ...env })} ${e.state === "error" ? 0 : 1}`,
		),
	);
	return `${lines.join("\n")}\n`;
}
