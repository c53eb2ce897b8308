/**
 * The rollout gate: given the canary's and the stable version's figures over the same window,
 * decide whether to promote the canary, roll it back, or wait for more traffic. A pure
 * function, so every rule of the decision is tested on its own.
 *
 * The canary must hold the alert thresholds (5xx rate, p95, p99: the original's
 * HighErrorRate, HTTPHighP95 and HTTPHighP99) and must not be worse than stable beyond the
 * margins. Both versions need `minRequests` in the window before anything is judged, except
 * that a canary whose failures already break the error threshold whatever its next requests
 * bring is rolled back at once.
 *
 * @module
 */

/** What one version did over the judged window. */
export interface VersionFigures {
	/** Requests (edge) or queue messages (consumer). */
	requests: number;
	/** 5xx responses (edge) or messages retried / dead-lettered (consumer). */
	errors: number;
	/** null when there were no requests. */
	p95Ms: number | null;
	p99Ms: number | null;
}

export interface GatePolicy {
	/** The canary's error rate must stay at or below this (0.005 = HighErrorRate's 0.5 %). */
	maxErrorRate: number;
	/** p95 ceiling, ms (HTTPHighP95: 2 s). */
	maxP95Ms: number;
	/** p99 ceiling, ms (HTTPHighP99: 5 s). */
	maxP99Ms: number;
	/** The canary's error rate may exceed stable's by at most this, absolute (0.001 = 0.1 point). */
	errorRateMargin: number;
	/** The canary's p95/p99 may exceed stable's by at most this share (0.2 = 20 %)… */
	latencyMargin: number;
	/** …plus this many ms, so that a few ms on a fast baseline do not count as a regression. */
	latencySlackMs: number;
	/** Requests each version needs in the window before it is judged. */
	minRequests: number;
}

/** Defaults: thresholds of the original's alert rules, margins stated in docs/runbook.md. */
export const DEFAULT_POLICY: GatePolicy = {
	maxErrorRate: 0.005,
	maxP95Ms: 2000,
	maxP99Ms: 5000,
	errorRateMargin: 0.001,
	latencyMargin: 0.2,
	latencySlackMs: 25,
	minRequests: 100,
};

interface GateCheck {
	name: string;
	ok: boolean;
	/** e.g. "canary 0.20 % ≤ 0.50 %" */
	detail: string;
}

export interface Verdict {
	decision: "promote" | "rollback" | "insufficient";
	/** Why, in sentences a person can act on. */
	reasons: string[];
	/** Every check made (empty when there was too little traffic to judge). */
	checks: GateCheck[];
}

const pct = (r: number) => `${(r * 100).toFixed(2)} %`;
const ms = (v: number | null) => (v === null ? "n/a" : `${Math.round(v)} ms`);
const rate = (f: VersionFigures) => (f.requests > 0 ? f.errors / f.requests : 0);

/**
 * Judges the canary against the thresholds and against stable.
 *
 * @example
 * ```ts
 * const verdict = judge(canary, stable, DEFAULT_POLICY);
 * if (verdict.decision === "rollback") console.log(verdict.reasons.join("\n"));
 * ```
 */
export function judge(canary: VersionFigures, stable: VersionFigures, policy: GatePolicy): Verdict {
	// Even if every request still to come succeeded, the canary could not get back under the ceiling.
	if (canary.requests < policy.minRequests && canary.errors / policy.minRequests > policy.maxErrorRate) {
		return {
			decision: "rollback",
			reasons: [
				`canary failed ${canary.errors} of its first ${canary.requests} requests: over ${pct(policy.maxErrorRate)} of ${policy.minRequests} whatever follows`,
			],
			checks: [],
		};
	}
	const short = [
		canary.requests < policy.minRequests && `canary served ${canary.requests}`,
		stable.requests < policy.minRequests && `stable served ${stable.requests}`,
	].filter((s): s is string => !!s);
	if (short.length) {
		return {
			decision: "insufficient",
			reasons: [`${short.join(" and ")} requests; at least ${policy.minRequests} each are needed to judge`],
			checks: [],
		};
	}

	const checks: GateCheck[] = [];
	const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });

	const canaryRate = rate(canary);
	const stableRate = rate(stable);
	check(
		"error rate",
		canaryRate <= policy.maxErrorRate,
		`canary ${pct(canaryRate)} (${canary.errors}/${canary.requests}), limit ${pct(policy.maxErrorRate)}`,
	);
	check(
		"error rate vs stable",
		canaryRate <= stableRate + policy.errorRateMargin,
		`canary ${pct(canaryRate)}, stable ${pct(stableRate)} + margin ${pct(policy.errorRateMargin)}`,
	);

	for (const [label, key, max] of [
		["p95", "p95Ms", policy.maxP95Ms],
		["p99", "p99Ms", policy.maxP99Ms],
	] as const) {
		const c = canary[key];
		const s = stable[key];
		check(label, c !== null && c <= max, `canary ${ms(c)}, limit ${ms(max)}`);
		if (s !== null) {
			const allowed = s * (1 + policy.latencyMargin) + policy.latencySlackMs;
			check(
				`${label} vs stable`,
				c !== null && c <= allowed,
				`canary ${ms(c)}, stable ${ms(s)} × ${1 + policy.latencyMargin} + ${policy.latencySlackMs} ms = ${ms(allowed)}`,
			);
		}
	}

	const failed = checks.filter((c) => !c.ok);
	return failed.length
		? { decision: "rollback", reasons: failed.map((c) => `${c.name} failed: ${c.detail}`), checks }
		: { decision: "promote", reasons: ["every check held"], checks };
}
