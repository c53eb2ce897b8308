/**
 * Deposit webhooks against a deployed edge Worker (staging), signed as real senders sign them,
 * at an open-model arrival rate, with redeliveries and out-of-order confirmations, and a
 * settlement check after the load that every deposit was credited exactly once.
 *
 *   k6 run -e BASE_URL=https://… -e WEBHOOK_SECRET=whsec_… -e SCENARIO=average load/k6/deposits.ts
 *
 * Where k6 lets each part run: the init code (module top level) reads settings and declares
 * metrics; `setup()` checks the target and registers the players; the default function (the
 * load's VU code) sends one iteration of the deposit plan; `settlement()` (VU code of its own
 * scenario, after the load) checks the ledgers; `handleSummary()` formats the result. No
 * `teardown()`: k6 gives it no execution counters. Settings: lib/config.ts and load/README.md.
 *
 * @module
 */
import { check, sleep } from "k6";
import exec from "k6/execution";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import type { Options } from "k6/options";
import { readConfig } from "./lib/config.ts";
import { DepositPlan } from "./lib/deposit-plan.ts";
import { type Player, registerPlayers } from "./lib/players.ts";
import {
	GRACEFUL_STOP_SECONDS,
	loadFor,
	SETTLEMENT_SCENARIO,
	settlementScenario,
	thresholdsFor,
} from "./lib/scenarios.ts";
import { checkSettlement } from "./lib/settlement.ts";
import { signedHeaders, signingKey } from "./lib/standard-webhooks.ts";
import { type SummaryData, textSummary } from "./lib/summary.ts";

const config = readConfig(__ENV);
const load = loadFor(config);

export const options: Options = {
	scenarios: {
		[load.name]: load.scenario,
		[SETTLEMENT_SCENARIO]: settlementScenario(load, config.settleTimeoutSeconds, config.loadUsers),
	},
	thresholds: thresholdsFor(load),
	summaryTrendStats: ["avg", "min", "med", "p(90)", "p(95)", "p(99)", "max", "count"],
	// Registering players waits out the credential routes' limit (20 a minute).
	setupTimeout: `${120 + Math.ceil(config.loadUsers / 20) * 70}s`,
};

const webhookAckMs = new Trend("webhook_ack_ms", true);
const healthMs = new Trend("health_ms", true);
const webhookAccepted = new Rate("webhook_accepted");
const webhooksSent = new Counter("webhooks_sent");
const webhookRefused = new Counter("webhook_refused");
const webhookRedeliveries = new Counter("webhook_redeliveries");
const depositsCreated = new Counter("deposits_created");
// k6's own counter, declared here only to give it a sample of 0 in setup(): k6 counts only
// drops, so a run that drops nothing would evaluate its threshold on no sample at all.
const droppedIterations = new Counter("dropped_iterations");

interface RunData {
	runId: string;
	players: Player[];
	/** The players were an earlier run's (the same RUN_ID). */
	existed: boolean;
}

const key = signingKey(config.webhookSecret);
// Per VU: VUs share no memory, so each builds the (deterministic) plan from the setup data.
let plan: DepositPlan | undefined;

function planFor(data: RunData): DepositPlan {
	if (!plan) {
		plan = new DepositPlan({
			runId: data.runId,
			chain: config.chain,
			userIds: data.players.map((p) => p.id),
			duplicateShare: config.duplicateShare,
			stagedShare: config.stagedShare,
			requiredConfirmations: config.requiredConfirmations,
		});
	}
	return plan;
}

export function setup(): RunData {
	// k6's --vus / --duration / --iterations / --stages flags replace the script's scenarios,
	// and with them the settlement check: refuse rather than report a run nobody verified.
	if (!exec.test.options.scenarios?.[SETTLEMENT_SCENARIO]) {
		throw new Error(
			"k6's --vus, --duration, --iterations and --stages flags replace this script's scenarios, and its settlement check with them: " +
				"give the original's habit as -e VUS=20 -e DURATION=1m instead (load/README.md, k6 against staging)",
		);
	}
	const health = http.get(`${config.baseUrl}/api/v1/health`, { tags: { endpoint: "setup" } });
	if (health.status !== 200) {
		throw new Error(`${config.baseUrl}/api/v1/health answered ${health.status}: is BASE_URL right?`);
	}
	droppedIterations.add(0);
	const runId = config.runId || Date.now().toString(36);
	const { players, existed } = registerPlayers(config.baseUrl, key, runId, config.loadUsers);
	console.log(
		`run ${runId}: scenario ${config.scenario} (${load.seconds} s), ${players.length} players${existed ? " of an earlier run" : ""}, base rate ${config.baseRate}/s`,
	);
	return { runId, players, existed };
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
	// The closed model paces itself as the original script did: 0.5 to 2 s between iterations.
	if (load.name === "vus") sleep(0.5 + Math.random() * 1.5);
}

/** The settlement check's scenario (lib/scenarios.ts starts it when the load's schedule ends). */
export function settlement(data: RunData) {
	checkSettlement({
		baseUrl: config.baseUrl,
		key,
		chain: config.chain,
		plan: planFor(data),
		players: data.players,
		existed: data.existed,
		timeoutSeconds: config.settleTimeoutSeconds,
		loadGraceSeconds: GRACEFUL_STOP_SECONDS,
	});
}

export function handleSummary(data: SummaryData) {
	const text = textSummary(data, `CricAlgo deposits, scenario ${config.scenario}, ${config.baseUrl}`);
	return {
		stdout: text,
		[`${config.summaryPrefix}-${config.scenario}.json`]: JSON.stringify(data, null, 2),
		[`${config.summaryPrefix}-${config.scenario}.txt`]: text,
	};
}
