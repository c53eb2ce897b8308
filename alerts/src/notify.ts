/**
 * Turns evaluations into notifications without repeating them: a rule is announced once when
 * it starts firing and once when it resolves. What has been announced is kept in a small
 * {@link AlertMemory} (the scheduled Worker stores it in KV between runs).
 *
 * A rule that could not be evaluated keeps its previous standing: an outage of the analytics
 * API neither fires nor resolves anything. It raises one alert of its own instead
 * ({@link EVALUATION_FAILING}), so silence never means "the alerts are broken".
 *
 * @module
 */
import type { RuleEvaluation } from "../../shared/alerts/evaluate";
import { formatValue, type Severity } from "../../shared/alerts/rules";

/** What has been announced as firing, by rule name. */
export interface AlertMemory {
	firing: Record<string, { since: string; severity: Severity; summary: string }>;
}

interface Notification {
	kind: "firing" | "resolved";
	name: string;
	severity: Severity;
	summary: string;
	/** The current figure, formatted, or the error. */
	detail: string;
}

/** The alert raised when rules could not be evaluated. */
const EVALUATION_FAILING = "AlertEvaluationFailing";

export const EMPTY_MEMORY: AlertMemory = { firing: {} };

/**
 * Compares this run's evaluations with what was announced before.
 *
 * @returns the notifications to send, and the memory to keep once they are sent.
 */
export function transitions(
	memory: AlertMemory,
	evaluations: readonly RuleEvaluation[],
	at: Date,
): { notifications: Notification[]; next: AlertMemory } {
	const notifications: Notification[] = [];
	const firing: AlertMemory["firing"] = {};
	for (const e of evaluations) {
		const { name, severity, summary, unit, threshold } = e.rule;
		const before = memory.firing[name];
		if (e.state === "error") {
			if (before) firing[name] = before;
			continue;
		}
		const figure = `${formatValue(unit, e.value)} (threshold ${formatValue(unit, threshold)})`;
		// A firing rule carries its first step for whoever is on call.
		const detail = e.state === "firing" && e.rule.runbook ? `${figure}. Runbook: ${e.rule.runbook}` : figure;
		if (e.state === "firing") {
			firing[name] = before ?? { since: at.toISOString(), severity, summary };
			if (!before) notifications.push({ kind: "firing", name, severity, summary, detail });
		} else if (before) {
			notifications.push({ kind: "resolved", name, severity, summary, detail });
		}
	}

	const errors = evaluations.filter((e) => e.state === "error");
	const failingBefore = memory.firing[EVALUATION_FAILING];
	if (errors.length) {
		const summary = `${errors.length} alert rule(s) could not be evaluated`;
		const detail = [...new Set(errors.map((e) => e.error))].join("; ");
		firing[EVALUATION_FAILING] = failingBefore ?? { since: at.toISOString(), severity: "critical", summary };
		if (!failingBefore) {
			notifications.push({ kind: "firing", name: EVALUATION_FAILING, severity: "critical", summary, detail });
		}
	} else if (failingBefore) {
		notifications.push({
			kind: "resolved",
			name: EVALUATION_FAILING,
			severity: "critical",
			summary: "every alert rule is evaluated again",
			detail: "the analytics APIs answer",
		});
	}
	return { notifications, next: { firing } };
}

/** A Slack-compatible incoming-webhook payload (`text` for every client, `blocks` for Slack). */
export function slackMessage(
	environment: string,
	notifications: readonly Notification[],
): { text: string; blocks: unknown[] } {
	const line = (n: Notification) =>
		`${n.kind === "firing" ? "FIRING" : "RESOLVED"} [${n.severity}] ${n.name}: ${n.summary}. ${n.detail}`;
	const text = `CricAlgo ${environment}: ${notifications.map(line).join("\n")}`;
	return {
		text,
		blocks: [
			{ type: "header", text: { type: "plain_text", text: `CricAlgo alerts (${environment})` } },
			...notifications.map((n) => ({
				type: "section",
				text: {
					type: "mrkdwn",
					text: `${n.kind === "firing" ? ":rotating_light: *FIRING*" : ":white_check_mark: *RESOLVED*"} \`${n.name}\` (${n.severity})\n${n.summary}\n${n.detail}`,
				},
			})),
		],
	};
}
