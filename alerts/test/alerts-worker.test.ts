/**
 * The alerts Worker inside workerd: its scheduled handler runs as the cron trigger would, its
 * KV namespace is miniflare's local KV, and its outbound calls (Analytics Engine SQL, GraphQL
 * Analytics, the Slack-compatible webhook) go to the Cloudflare stand-in started by
 * test/support/cloudflare-stand-in-setup.ts, whose answers each test scripts. What is asserted is what an on-call person
 * sees: which messages arrive, when, and that none repeats.
 */
import {
	createExecutionContext,
	createScheduledController,
	reset,
	waitOnExecutionContext,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, inject, it } from "vitest";
import { degrade, failing, healthy, type ScenarioEntry } from "../../test/support/alert-scenario";
import "../../test/support/cloudflare-stand-in-context";
import worker, { MEMORY_KEY } from "../src/index";

const cf = inject("cloudflareStandIn");
const T = Date.UTC(2026, 10, 21, 12, 0, 0);
const MINUTE = 60_000;
const unix = (ms: number) => ms / 1000;

async function scenario(entries: ScenarioEntry[], slackStatus = 200) {
	const res = await fetch(`${cf.origin}/__stand-in/scenario`, {
		method: "POST",
		body: JSON.stringify({ scenario: entries, slackStatus }),
	});
	expect(res.ok).toBe(true);
}

async function slackTexts(): Promise<string[]> {
	const res = await fetch(`${cf.origin}/__stand-in/slack`);
	const { messages } = (await res.json()) as { messages: { text: string; blocks: unknown[] }[] };
	return messages.map((m) => m.text);
}

async function calls(): Promise<{ method: string; path: string; body: string }[]> {
	const res = await fetch(`${cf.origin}/__stand-in/calls`);
	return ((await res.json()) as { calls: { method: string; path: string; body: string }[] }).calls;
}

/** Runs the cron trigger at `at` (ms), as Cloudflare would. */
async function cronAt(at: number) {
	const controller = createScheduledController({ scheduledTime: at, cron: "* * * * *" });
	const ctx = createExecutionContext();
	await (worker as ExportedHandler<Env>).scheduled?.(controller, env, ctx);
	await waitOnExecutionContext(ctx);
}

async function announced(): Promise<string[]> {
	const memory = await env.ALERT_STATE.get<{ firing: Record<string, unknown> }>(MEMORY_KEY, "json");
	return Object.keys(memory?.firing ?? {}).sort();
}

/** 2 % of requests failing with a 5xx, from `minutesAgo` minutes before T on. */
const errorsSince = (minutesAgo: number) =>
	degrade("http", { errors_5xx: 240 }, unix(T - minutesAgo * MINUTE));

beforeEach(async () => {
	await reset();
	await fetch(`${cf.origin}/__stand-in/reset`, { method: "POST" });
});

describe("alerts Worker", () => {
	it("says nothing while everything is healthy, asking each signal once", async () => {
		await scenario(healthy());
		await cronAt(T);

		expect(await slackTexts()).toEqual([]);
		expect(await announced()).toEqual([]);
		const analytics = (await calls()).filter(
			(c) => c.path.endsWith("/analytics_engine/sql") || c.path === "/graphql",
		);
		// http, webhook, refusals, settle, database, ledger (SQL); queue backlog, invocations (GraphQL).
		expect(analytics.length).toBe(8);
		expect(analytics.every((c) => c.body.includes("cricalgo_edge_local") || c.path === "/graphql")).toBe(
			true,
		);
	});

	it("announces HighErrorRate once it has held for its 2 minutes, once only, then its resolution", async () => {
		await scenario([errorsSince(2), ...healthy()]);
		await cronAt(T);
		const [firing, ...more] = await slackTexts();
		expect(more).toEqual([]);
		expect(firing).toContain("FIRING [critical] HighErrorRate: HTTP 5xx error rate above 0.5 %. 2.0 %");
		// ModerateErrorRate needs 5 minutes: only pending so far, so not announced.
		expect(firing).not.toContain("ModerateErrorRate");
		expect(await announced()).toEqual(["HighErrorRate"]);

		// Still failing a minute later: nothing new is posted.
		await cronAt(T + MINUTE);
		expect(await slackTexts()).toHaveLength(1);

		await scenario(healthy());
		await cronAt(T + 2 * MINUTE);
		const texts = await slackTexts();
		expect(texts).toHaveLength(2);
		expect(texts[1]).toContain("RESOLVED [critical] HighErrorRate");
		expect(await announced()).toEqual([]);
	});

	it("does not announce a condition that has held for less than its `for` window", async () => {
		await scenario([errorsSince(1), ...healthy()]);
		await cronAt(T);
		expect(await slackTexts()).toEqual([]);
		expect(await announced()).toEqual([]);
	});

	it("fires QueueDepthCritical from the Queues backlog, with QueueDepthHigh still pending", async () => {
		await scenario([degrade("queue", { messages: 250 }, unix(T - 2 * MINUTE)), ...healthy()]);
		await cronAt(T);
		const texts = await slackTexts();
		expect(texts).toHaveLength(1);
		expect(texts[0]).toContain(
			"FIRING [critical] QueueDepthCritical: Deposits queue backlog above 200 messages. 250 msgs",
		);
		expect(texts[0]).not.toContain("QueueDepthHigh");
	});

	it("keeps a notification the webhook refused and delivers it the next minute", async () => {
		await scenario([errorsSince(5), ...healthy()], 500);
		await expect(cronAt(T)).rejects.toThrow(
			/the alert webhook answered 500 .*retried next minute; check SLACK_WEBHOOK_URL/,
		);
		expect(await announced()).toEqual([]);

		await scenario([errorsSince(5), ...healthy()], 200);
		await cronAt(T + MINUTE);
		const texts = await slackTexts();
		expect(texts).toHaveLength(1);
		expect(texts[0]).toContain("FIRING [critical] HighErrorRate");
		expect(texts[0]).toContain("FIRING [warning] ModerateErrorRate");
	});

	it("when the analytics API fails, resolves nothing and raises AlertEvaluationFailing once", async () => {
		await scenario([errorsSince(3), ...healthy()]);
		await cronAt(T);
		expect(await announced()).toEqual(["HighErrorRate"]);

		await scenario([failing("http"), ...healthy()]);
		await cronAt(T + MINUTE);
		await cronAt(T + 2 * MINUTE);
		let texts = await slackTexts();
		expect(texts).toHaveLength(2);
		expect(texts[1]).toContain("FIRING [critical] AlertEvaluationFailing");
		expect(texts[1]).toContain("HTTP 500");
		expect(texts[1]).not.toContain("RESOLVED");
		expect(await announced()).toEqual(["AlertEvaluationFailing", "HighErrorRate"]);

		await scenario(healthy());
		await cronAt(T + 3 * MINUTE);
		texts = await slackTexts();
		expect(texts).toHaveLength(3);
		expect(texts[2]).toContain("RESOLVED [critical] HighErrorRate");
		expect(texts[2]).toContain("RESOLVED [critical] AlertEvaluationFailing");
		expect(await announced()).toEqual([]);
	});
});
