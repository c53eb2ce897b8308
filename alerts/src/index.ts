/**
 * The alerts Worker. Its cron trigger runs every minute: it evaluates the alert rules
 * (shared/alerts/rules.ts, the same list `ops alerts` prints), compares the result with what it
 * announced before (kept in KV), and posts what started firing or resolved to a
 * Slack-compatible incoming webhook. Nothing is announced twice.
 *
 * The memory is written only after the webhook accepted the message, so a failed post is
 * retried on the next run rather than lost.
 *
 * @module
 */

import {
	cloudflareFigures,
	evaluateRules,
	evaluationTime,
	type RuleEvaluation,
} from "../../shared/alerts/evaluate";
import { RULES } from "../../shared/alerts/rules";
import type { AlertTarget } from "../../shared/alerts/signals";
import { createCloudflareApi } from "../../shared/cloudflare/api";
import { type AlertMemory, EMPTY_MEMORY, slackMessage, transitions } from "./notify";

/** KV key of what has been announced. */
export const MEMORY_KEY = "announced";

function required(
	env: Env,
	name: "CLOUDFLARE_API_TOKEN" | "CLOUDFLARE_ACCOUNT_ID" | "SLACK_WEBHOOK_URL",
): string {
	const value = env[name];
	if (!value) {
		throw new Error(
			`${name} is not set: add it with \`wrangler secret put ${name} -c alerts/wrangler.toml --env ${env.ENVIRONMENT}\``,
		);
	}
	return value;
}

function positive(env: Env, name: "DB_CAPACITY" | "CPU_BUDGET_MS"): number {
	const n = Number(env[name]);
	if (!(n > 0))
		throw new Error(`${name} must be a positive number in alerts/wrangler.toml, not "${env[name]}"`);
	return n;
}

/** What the rules watch in this Worker's environment, from its vars. */
function targetOf(env: Env): AlertTarget {
	return {
		environment: env.ENVIRONMENT,
		dataset: env.ANALYTICS_DATASET,
		edgeScript: env.EDGE_SCRIPT,
		apiScript: env.API_SCRIPT,
		consumerScript: env.CONSUMER_SCRIPT,
		queue: env.DEPOSITS_QUEUE,
		dbCapacity: positive(env, "DB_CAPACITY"),
		cpuBudgetMs: positive(env, "CPU_BUDGET_MS"),
	};
}

/** One run: evaluate, announce the changes, remember them. Returns the evaluations (for logs and tests). */
async function runAlerts(env: Env, now: Date): Promise<RuleEvaluation[]> {
	const target = targetOf(env);
	const api = createCloudflareApi({
		baseUrl: env.CLOUDFLARE_API_BASE_URL,
		token: required(env, "CLOUDFLARE_API_TOKEN"),
		accountId: required(env, "CLOUDFLARE_ACCOUNT_ID"),
	});
	const webhook = required(env, "SLACK_WEBHOOK_URL");
	const at = evaluationTime(now);
	const evaluations = await evaluateRules(RULES, cloudflareFigures(api, target), at);

	const memory = (await env.ALERT_STATE.get<AlertMemory>(MEMORY_KEY, "json")) ?? EMPTY_MEMORY;
	const { notifications, next } = transitions(memory, evaluations, at);
	const summary = evaluations.map((e) => `${e.rule.name}=${e.state}`).join(" ");
	console.log(`alerts ${target.environment} at ${at.toISOString()}: ${summary}`);

	if (notifications.length) {
		const res = await fetch(webhook, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(slackMessage(target.environment, notifications)),
		});
		if (!res.ok) {
			throw new Error(
				`the alert webhook answered ${res.status} ${(await res.text()).slice(0, 200)}: ${notifications.length} notification(s) not delivered, retried next minute; check SLACK_WEBHOOK_URL`,
			);
		}
	}
	if (JSON.stringify(next) !== JSON.stringify(memory)) {
		await env.ALERT_STATE.put(MEMORY_KEY, JSON.stringify(next));
	}
	return evaluations;
}

export default {
	async scheduled(controller, env) {
		await runAlerts(env, new Date(controller.scheduledTime));
	},
} satisfies ExportedHandler<Env>;
