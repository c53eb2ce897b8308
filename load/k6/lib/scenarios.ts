/**
 * The five load shapes, all open model (arrival rate): k6 starts iterations at the planned rate
 * whether or not earlier ones have answered, as independent blockchain watchers do. A closed
 * model (a fixed number of VUs that wait for each answer) slows down with the server and hides
 * exactly the queueing that matters. Rates are multiples of `BASE_RATE` (deposits per second).
 *
 * @module
 */
import type { Options, Scenario } from "k6/options";
import type { ScenarioName } from "./config.ts";

interface Stage {
	duration: string;
	target: number;
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
		stages,
		gracefulStop: "30s",
		...vus(peak),
	};
}

/** The k6 scenario for `name`, at `base` deposits per second for "average". */
export function scenarioFor(name: ScenarioName, base: number, soakDuration: string): Scenario {
	const r = (multiple: number) => Math.max(1, Math.round(base * multiple));
	switch (name) {
		case "smoke":
			// A handful per second for a minute: does everything answer and settle at all?
			return {
				executor: "constant-arrival-rate",
				rate: r(0.1),
				timeUnit: "1s",
				duration: "1m",
				gracefulStop: "30s",
				...vus(r(0.1)),
			};
		case "average":
			return ramping([
				{ duration: "2m", target: r(1) },
				{ duration: "10m", target: r(1) },
				{ duration: "1m", target: 0 },
			]);
		case "stress":
			return ramping([
				{ duration: "2m", target: r(2) },
				{ duration: "5m", target: r(2) },
				{ duration: "2m", target: r(4) },
				{ duration: "5m", target: r(4) },
				{ duration: "2m", target: 0 },
			]);
		case "spike":
			// A token listing or a contest deadline: ten times the average within seconds.
			return ramping([
				{ duration: "1m", target: r(1) },
				{ duration: "10s", target: r(10) },
				{ duration: "1m", target: r(10) },
				{ duration: "10s", target: r(1) },
				{ duration: "2m", target: r(1) },
				{ duration: "30s", target: 0 },
			]);
		case "soak":
			return ramping([
				{ duration: "5m", target: r(1) },
				{ duration: soakDuration, target: r(1) },
				{ duration: "5m", target: 0 },
			]);
	}
}

/**
 * Pass/fail criteria. The first group is the original system's (its alert rules and its k6
 * check on the health route); the second is ours, tighter, because the edge answers before any
 * database work and every accepted deposit must settle.
 */
export function thresholdsFor(name: ScenarioName, settlementChecked: boolean): Options["thresholds"] {
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
	};
	// Under the steady shapes the generator must never fall behind its schedule: dropped
	// iterations mean the server was slow enough to exhaust the VU pool.
	if (name === "smoke" || name === "average" || name === "soak") {
		thresholds.dropped_iterations = ["count<1"];
	}
	if (settlementChecked) {
		thresholds.deposits_settled = ["rate==1"];
		thresholds.settle_drain_ms = ["max<30000"];
	}
	return thresholds;
}
