/**
 * Deposit webhooks against a deployed edge Worker (staging), signed as real senders sign them,
 * at an open-model arrival rate, with redeliveries and out-of-order confirmations, and an
 * end-of-run check that every deposit was credited.
 *
 *   k6 run -e BASE_URL=https://… -e WEBHOOK_SECRET=whsec_… -e SCENARIO=average load/k6/deposits.ts
 *
 * Settings: lib/config.ts and load/README.md ("k6 against staging").
 *
 * @module
 */
import { check } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { config } from "./lib/config.ts";
import { DepositPlan } from "./lib/deposit-plan.ts";
import { scenarioFor, thresholdsFor } from "./lib/scenarios.ts";
import { checkSettlement, depositsToCheck } from "./lib/settlement.ts";
import { signedHeaders, signingKey } from "./lib/standard-webhooks.ts";
import { type SummaryData, textSummary } from "./lib/summary.ts";
import { registerUsers } from "./lib/users.ts";

export const options: Options = {
	scenarios: { [config.scenario]: scenarioFor(config.scenario, config.baseRate, config.soakDuration) },
	thresholds: thresholdsFor(config.scenario, config.adminToken !== ""),
	summaryTrendStats: ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max"],
	// Registering users and polling settlement take longer than k6's 60 s defaults.
	setupTimeout: "5m",
	teardownTimeout: `${Math.ceil(config.settleTimeoutSeconds + 300)}s`,
};

const webhookAckMs = new Trend("webhook_ack_ms", true);
const healthMs = new Trend("health_ms", true);
const webhookAccepted = new Rate("webhook_accepted");
const webhooksSent = new Counter("webhooks_sent");
const webhookRefused = new Counter("webhook_refused");
const webhookRedeliveries = new Counter("webhook_redeliveries");
const depositsCreated = new Counter("deposits_created");

interface RunData {
	runId: string;
	userIds: string[];
}

const key = signingKey(config.webhookSecret);
let plan: DepositPlan | undefined;

function planFor(data: RunData): DepositPlan {
	if (!plan) {
		plan = new DepositPlan({
			runId: data.runId,
			chain: config.chain,
			userIds: data.userIds,
			duplicateShare: config.duplicateShare,
			stagedShare: config.stagedShare,
			requiredConfirmations: config.requiredConfirmations,
		});
	}
	return plan;
}

export function setup(): RunData {
	const health = http.get(`${config.baseUrl}/api/v1/health`);
	if (health.status !== 200) {
		throw new Error(`${config.baseUrl}/api/v1/health answered ${health.status}: is BASE_URL right?`);
	}
	const runId = config.runId || Date.now().toString(36);
	const userIds = config.userIds.length
		? config.userIds
		: registerUsers(config.baseUrl, runId, config.loadUsers);
	console.log(
		`run ${runId}: scenario ${config.scenario}, ${userIds.length} users, base rate ${config.baseRate}/s`,
	);
	return { runId, userIds };
}

export default function (data: RunData) {
	const i = exec.scenario.iterationInTest;
	const p = planFor(data);
	if (p.createsDeposit(i)) depositsCreated.add(1);
	for (const delivery of p.deliveries(i)) {
		const res = http.post(`${config.baseUrl}/api/v1/webhooks/${config.chain}`, delivery.body, {
			headers: signedHeaders(key, delivery.webhookId, delivery.body),
			tags: { endpoint: "webhook", delivery: delivery.kind },
			timeout: "10s",
		});
		webhooksSent.add(1);
		if (delivery.kind === "network-retry" || delivery.kind === "watcher-retry") webhookRedeliveries.add(1);
		const accepted = res.status === 202;
		webhookAccepted.add(accepted);
		if (!accepted) webhookRefused.add(1, { status: String(res.status) });
		webhookAckMs.add(res.timings.duration, { delivery: delivery.kind });
		check(res, {
			"webhook answered 202": (r) => r.status === 202,
			"webhook answer carries ok and tx_id": (r) =>
				r.status !== 202 || (r.json("ok") === true && typeof r.json("tx_id") === "string"),
		});
	}
	if (i % config.healthEvery === 0) {
		const res = http.get(`${config.baseUrl}/api/v1/health`, { tags: { endpoint: "health" } });
		healthMs.add(res.timings.duration);
		check(res, { "health answered 200": (r) => r.status === 200 });
	}
}

export function teardown(data: RunData) {
	if (!config.adminToken) {
		console.warn(
			"settlement check skipped: set ADMIN_TOKEN to an admin access token (POST /api/v1/login) to verify every deposit was credited",
		);
		return;
	}
	// Iterations are numbered from 0 in the order they started; every started one is counted.
	// In a distributed run this instance only knows its own share, so fewer are checked.
	const iterations = exec.instance.iterationsCompleted + exec.instance.iterationsInterrupted;
	const deposits = depositsToCheck(planFor(data), iterations, config.settleSample);
	console.log(`settlement: checking ${deposits.length} deposits of ${iterations} iterations …`);
	const unsettled = checkSettlement(planFor(data), deposits, {
		baseUrl: config.baseUrl,
		adminToken: config.adminToken,
		chain: config.chain,
		timeoutSeconds: config.settleTimeoutSeconds,
	});
	if (unsettled.length) {
		console.error(
			`settlement: ${unsettled.length} deposit(s) not credited after ${config.settleTimeoutSeconds} s, e.g. ${JSON.stringify(unsettled.slice(0, 5))}`,
		);
	} else {
		console.log("settlement: every checked deposit is credited");
	}
}

export function handleSummary(data: SummaryData) {
	const text = textSummary(data, `CricAlgo deposits, scenario ${config.scenario}, ${config.baseUrl}`);
	return {
		stdout: text,
		[`${config.summaryPrefix}-${config.scenario}.json`]: JSON.stringify(data, null, 2),
		[`${config.summaryPrefix}-${config.scenario}.txt`]: text,
	};
}
