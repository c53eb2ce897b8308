/**
 * `ops alerts`: evaluates the alert rules (shared/alerts/rules.ts, the same list the alerts Worker
 * runs every minute) once, prints them as a table, JSON, or Prometheus text, and exits
 * non-zero when one fires.
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
	cloudflareFigures,
	evaluateRules,
	evaluationTime,
	type RuleEvaluation,
} from "../../shared/alerts/evaluate";
import { toPrometheusText } from "../../shared/alerts/prometheus";
import { formatValue, RULES } from "../../shared/alerts/rules";
import { analyticsApi, credentialsFromEnv } from "../cloudflare/credentials";
import { resolveAlertTarget } from "../cloudflare/workers";
import { parseNumber } from "../rollout/plan";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

function table(evaluations: readonly RuleEvaluation[]): string {
	const rows = evaluations.map((e) => [
		e.rule.name,
		e.rule.severity,
		e.state.toUpperCase(),
		e.state === "error" ? "—" : formatValue(e.rule.unit, e.value),
		`> ${formatValue(e.rule.unit, e.rule.threshold)}`,
		`${e.rule.forMinutes}m`,
		e.state === "pending" || e.state === "firing" ? `${e.heldMinutes}m` : "",
	]);
	return formatTable(["RULE", "SEVERITY", "STATE", "VALUE", "THRESHOLD", "FOR", "HELD"], rows);
}

export const alerts: Command = {
	summary: "evaluate the 15 alert rules now; table, JSON or Prometheus text; exit 1 when one fires",
	help: `usage: npm run ops -- alerts --env <env> [options]

Evaluates the alert rules (the original's 15 Prometheus rules mapped onto Analytics Engine
and Queues analytics, see docs/alerts.md) as Prometheus would at this minute: a rule FIRES
when its condition has held at every minute of its "for" window, is PENDING while it holds
for less, NO_DATA when there was nothing to measure.

  --env <name>            wrangler environment: staging | production
  --format <f>            table (default) | json | prometheus
  --out <file>            write the output to a file instead of stdout (for example a
                          node_exporter textfile collector's *.prom file)
  --at <ISO time>         evaluate at this past time instead of now
  --db-capacity <n>       concurrent database round trips the database is sized for (default 20,
                          the original pool size); DatabaseSaturation* measure against it
  --cpu-budget-ms <ms>    p99 CPU time per invocation counted as 100 % (default 50)

Needs CLOUDFLARE_API_TOKEN (Account Analytics: Read, Queues: Read) and CLOUDFLARE_ACCOUNT_ID.

Exit codes:
  0  nothing fires
  1  at least one rule fires
  2  usage error
  3  nothing fires, but some rules could not be evaluated (an API call failed)`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				env: { type: "string" },
				format: { type: "string", default: "table" },
				out: { type: "string" },
				at: { type: "string" },
				"db-capacity": { type: "string", default: "20" },
				"cpu-budget-ms": { type: "string", default: "50" },
			},
		});
		if (!values.env) throw new UsageError("--env is required (staging or production)");
		const format = values.format;
		if (format !== "table" && format !== "json" && format !== "prometheus") {
			throw new UsageError(`--format must be table, json or prometheus, not "${format}"`);
		}
		const at = values.at ? new Date(values.at) : new Date();
		if (Number.isNaN(at.getTime())) throw new UsageError(`--at must be an ISO time, not "${values.at}"`);
		const target = resolveAlertTarget(values.env, {
			dbCapacity: parseNumber("--db-capacity", values["db-capacity"], 1),
			cpuBudgetMs: parseNumber("--cpu-budget-ms", values["cpu-budget-ms"], 1),
		});
		const api = analyticsApi(credentialsFromEnv());
		const when = evaluationTime(at);
		console.error(`evaluating ${RULES.length} rules for ${target.environment} at ${when.toISOString()} …`);
		const evaluations = await evaluateRules(RULES, cloudflareFigures(api, target), when);

		let output: string;
		if (format === "prometheus") {
			output = toPrometheusText(target, evaluations);
		} else if (format === "json") {
			output = `${JSON.stringify(
				{
					environment: target.environment,
					at: when.toISOString(),
					rules: evaluations.map((e) => ({
						name: e.rule.name,
						severity: e.rule.severity,
						state: e.state,
						value: e.value,
						unit: e.rule.unit,
						threshold: e.rule.threshold,
						for_minutes: e.rule.forMinutes,
						held_minutes: e.heldMinutes,
						...(e.error ? { error: e.error } : {}),
					})),
				},
				null,
				2,
			)}\n`;
		} else {
			output = `${table(evaluations)}\n`;
		}
		if (values.out) {
			writeFileSync(values.out, output);
			console.error(`written to ${values.out}`);
		} else {
			process.stdout.write(output);
		}

		const errors = evaluations.filter((e) => e.state === "error");
		for (const e of errors) console.error(`could not evaluate ${e.rule.name}: ${e.error}`);
		const firing = evaluations.filter((e) => e.state === "firing");
		if (firing.length) {
			console.error(`${firing.length} rule(s) firing: ${firing.map((e) => e.rule.name).join(", ")}`);
			return 1;
		}
		if (errors.length) return 3;
		console.error("nothing fires");
		return 0;
	},
};
