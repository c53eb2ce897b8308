/**
 * The load shapes and the settlement check's place after them.
 *
 * The five named shapes are open model (arrival rate): k6 starts iterations at the planned rate
 * whether or not earlier ones have answered, as independent blockchain watchers do. A closed
 * model (a fixed number of VUs that wait for each answer) slows down with the server and hides
 * exactly the queueing that matters; it is still offered as `vus`, because the original system's
 * operators ran `k6 run --vus 20 --duration 1m` and compare figures with it. Rates are multiples
 * of `BASE_RATE` (deposits per second); every stage's length is multiplied by `DURATION_SCALE`.
 *
 * The settlement check is a scenario of its own, one VU for one iteration, starting when the
 * load's schedule ends: VU code may read `k6/execution`'s instance counters, `teardown()` may
 * not (k6 refuses it there in every version).
 *
 * @module
 */
import type { Options, Scenario } from "k6/options";
import type { Config } from "./config.ts";

/** The settlement check's scenario; the script exports a function of the same name. */
export const SETTLEMENT_SCENARIO = "settlement";

/** How long iterations still running when the load's schedule ends may take to finish. */
export const GRACEFUL_STOP_SECONDS = 30;

interface Stage {
	seconds: number;
	target: number;
}

/** The load part of a run: its k6 scenario and how long its schedule lasts. */
export interface Load {
	name: Config["scenario"];
	scenario: Scenario;
	/** From the load's start to the end of its schedule (graceful stop not included). */
	seconds: number;
	/** Open model: the generator must keep its schedule, so a dropped iteration is a failure. */
	steady: boolean;
}

/** VUs to keep ready: enough for the peak rate at up to ~1 s per iteration, at least 10. */
function vus(peakRate: number): { preAllocatedVUs: number; maxVUs: number } {
	const preAllocatedVUs = Math.max(10, Math.ceil(peakRate));
	return { preAllocatedVUs, maxVUs: Math.max(50, Math.ceil(peakRate * 5)) };
}

function ramping(stages: Stage[]): Scenario {
	const peak = Math.max(...stages.map((s) => s.target));
	return {
		executor: "ramping-arrival-rate",
		startRate: 0,
		timeUnit: "1s",
		stages: stages.map((s) => ({ duration: `${s.seconds}s`, target: s.target })),
		gracefulStop: `${GRACEFUL_STOP_SECONDS}s`,
		...vus(peak),
	};
}

const total = (stages: Stage[]) => stages.reduce((sum, s) => sum + s.seconds, 0);

/** The load for the configured scenario, rates and durations. */
export function loadFor(config: Config): Load {
	const r = (multiple: number) => Math.max(1, Math.round(config.baseRate * multiple));
	// Whole seconds, at least one: k6 takes fractions, but a plan of "0s" stages is no plan.
	const t = (seconds: number) => Math.max(1, Math.round(seconds * config.durationScale));
	const shape = (stages: Stage[], steady: boolean): Load => ({
		name: config.scenario,
		scenario: ramping(stages),
		seconds: total(stages),
		steady,
	});
	switch (config.scenario) {
		case "smoke": {
			// A handful per second for a minute: does everything answer and settle at all?
			const seconds = t(60);
			return {
				name: "smoke",
				scenario: {
					executor: "constant-arrival-rate",
					rate: r(0.1),
					timeUnit: "1s",
					duration: `${seconds}s`,
					gracefulStop: `${GRACEFUL_STOP_SECONDS}s`,
					...vus(r(0.1)),
				},
				seconds,
				steady: true,
			};
		}
		case "average":
			return shape(
				[
					{ seconds: t(120), target: r(1) },
					{ seconds: t(600), target: r(1) },
					{ seconds: t(60), target: 0 },
				],
				true,
			);
		case "stress":
			return shape(
				[
					{ seconds: t(120), target: r(2) },
					{ seconds: t(300), target: r(2) },
					{ seconds: t(120), target: r(4) },
					{ seconds: t(300), target: r(4) },
					{ seconds: t(120), target: 0 },
				],
				false,
			);
		case "spike":
			// A token listing or a contest deadline: ten times the average within seconds.
			return shape(
				[
					{ seconds: t(60), target: r(1) },
					{ seconds: t(10), target: r(10) },
					{ seconds: t(60), target: r(10) },
					{ seconds: t(10), target: r(1) },
					{ seconds: t(120), target: r(1) },
					{ seconds: t(30), target: 0 },
				],
				false,
			);
		case "soak":
			return shape(
				[
					{ seconds: t(300), target: r(1) },
					{ seconds: t(config.soakSeconds), target: r(1) },
					{ seconds: t(300), target: 0 },
				],
				true,
			);
		case "vus":
			// The original's habit, as it was: VUS virtual users, each pausing 0.5 to 2 s between
			// iterations (the script does that), for DURATION. Not scaled: DURATION says it.
			return {
				name: "vus",
				scenario: {
					executor: "constant-vus",
					vus: config.vus,
					duration: `${config.vusSeconds}s`,
					gracefulStop: `${GRACEFUL_STOP_SECONDS}s`,
				},
				seconds: config.vusSeconds,
				steady: false,
			};
	}
}

/**
 * The settlement check: one iteration of the exported `settlement` function, from the moment
 * the load's schedule ends (it first waits for the iterations still in flight), with time for
 * the wait (`SETTLE_TIMEOUT`), the graceful stop, logging in the players (20 a minute, as the
 * credential routes allow) and reading their ledgers.
 */
export function settlementScenario(load: Load, settleTimeoutSeconds: number, players: number): Scenario {
	const logins = Math.ceil(players / 20) * 70;
	return {
		executor: "per-vu-iterations",
		exec: SETTLEMENT_SCENARIO,
		vus: 1,
		iterations: 1,
		startTime: `${load.seconds}s`,
		maxDuration: `${Math.ceil(settleTimeoutSeconds + GRACEFUL_STOP_SECONDS + logins + 300)}s`,
		gracefulStop: "10s",
	};
}

/** Metric names of the settlement check (lib/settlement.ts records them). */
export const SETTLEMENT_METRICS = {
	verdict: "settlement_verdict",
	checked: "deposits_checked",
	settled: "deposits_settled",
	drain: "settle_drain_ms",
} as const;

/**
 * Pass/fail criteria. The first group is the original system's (its alert rules and its k6
 * check on the health route); the second is ours, tighter, because the edge answers before any
 * database work and every accepted deposit must settle.
 *
 * k6 passes a threshold whose metric has no samples when it can read no value (a rate of
 * nothing), and reads 0 for an empty counter, gauge or trend. So the settlement verdict is a
 * gauge that must read 1 and a counter that must be above 0: a check that never ran, or died
 * half way, fails the run instead of passing it.
 */
export function thresholdsFor(load: Load): NonNullable<Options["thresholds"]> {
	const thresholds: NonNullable<Options["thresholds"]> = {
		// The original's.
		http_req_duration: ["p(95)<2000", "p(99)<5000"],
		http_req_failed: ["rate<0.005"],
		"http_req_duration{endpoint:webhook}": ["p(95)<1000"],
		"http_req_duration{endpoint:health}": ["p(95)<100"],
		// Ours.
		webhook_ack_ms: ["p(95)<300", "p(99)<800"],
		webhook_accepted: ["rate>0.999"],
		health_ms: ["p(99)<250"],
		checks: ["rate>0.999"],
		[SETTLEMENT_METRICS.verdict]: ["value==1"],
		[SETTLEMENT_METRICS.checked]: ["count>0"],
		[SETTLEMENT_METRICS.settled]: ["rate==1"],
		// The original's "deposit settle p95 > 30 s" alert: the backlog drains well within it.
		[SETTLEMENT_METRICS.drain]: ["max<30000"],
	};
	// Under the steady shapes the generator must never fall behind its schedule: dropped
	// iterations mean the server was slow enough to exhaust the VU pool.
	if (load.steady) thresholds.dropped_iterations = ["count<1"];
	return thresholds;
}
