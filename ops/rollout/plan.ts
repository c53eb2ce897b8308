/**
 * The rollout plan: traffic steps, bake and polling times, and the gate policy, parsed from
 * the command line and printed for `--dry-run`.
 *
 * @module
 */

import type { GatePolicy } from "../../shared/rollout/gate";
import { UsageError } from "../usage-error";

export interface RolloutPlan {
	/** Percentages of traffic for the new version, increasing, ending at 100. */
	steps: number[];
	/** Wait after each step before judging, ms. */
	bakeMs: number;
	/** Wait between re-queries while there is too little traffic, ms. */
	pollMs: number;
	/** Re-queries allowed per step before the rollout stops for want of traffic. */
	maxPolls: number;
	policy: GatePolicy;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a duration such as `30m`, `90s`, `1h`, `500ms` or `0`. */
export function parseDuration(flag: string, value: string): number {
	const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
	if (!m) throw new UsageError(`${flag} must be a duration such as 30m, 90s or 1h, not "${value}"`);
	if (!m[2] && Number(m[1]) !== 0) throw new UsageError(`${flag} needs a unit (ms, s, m, h): "${value}"`);
	return Math.round(Number(m[1]) * UNITS[m[2] ?? "ms"]!);
}

/** Formats ms as `30m`, `1h30m`, `45s`. */
export function formatDuration(ms: number): string {
	if (ms < 1000) return `${ms}ms`;
	const h = Math.floor(ms / 3_600_000);
	const m = Math.floor((ms % 3_600_000) / 60_000);
	const s = Math.round((ms % 60_000) / 1000);
	return [h && `${h}h`, m && `${m}m`, s && `${s}s`].filter(Boolean).join("") || "0s";
}

/** Parses `--steps 10,25,50,100`. */
export function parseSteps(value: string): number[] {
	const steps = value.split(",").map((s) => Number(s.trim()));
	const valid =
		steps.length > 0 &&
		steps.every((s, i) => Number.isInteger(s) && s > 0 && s <= 100 && (i === 0 || s > steps[i - 1]!)) &&
		steps.at(-1) === 100;
	if (!valid) {
		throw new UsageError(
			`--steps must be increasing whole percentages ending at 100, such as 10,25,50,100, not "${value}"`,
		);
	}
	return steps;
}

/** Parses a number flag within bounds. */
export function parseNumber(
	flag: string,
	value: string,
	min: number,
	max = Number.POSITIVE_INFINITY,
): number {
	const n = Number(value);
	if (value.trim() === "" || !Number.isFinite(n) || n < min || n > max) {
		throw new UsageError(`${flag} must be a number between ${min} and ${max}, not "${value}"`);
	}
	return n;
}
