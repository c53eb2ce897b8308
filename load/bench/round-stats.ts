/**
 * Summaries of per-round figures: a benchmark compares two things round by round, in short
 * alternating rounds, and reports the median of the rounds' ratios with their spread, so a
 * neighbour's burst of CPU moves one round, not the result.
 *
 * @module
 */

/** The value at quantile `q` (0 to 1) of `values`, interpolated between neighbours; NaN for none. */
export function quantile(values: readonly number[], q: number): number {
	if (values.length === 0) return Number.NaN;
	const sorted = [...values].sort((a, b) => a - b);
	const at = q * (sorted.length - 1);
	const low = Math.floor(at);
	const high = Math.ceil(at);
	return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low);
}

export const median = (values: readonly number[]) => quantile(values, 0.5);

export interface Spread {
	median: number;
	/** The middle half of the rounds lies between these. */
	q1: number;
	q3: number;
	min: number;
	max: number;
	/** (q3 − q1) / median: how far apart the middle half of the rounds are, relative. */
	relativeIqr: number;
}

/**
 * @example
 * ```ts
 * spread([0.9, 1, 1.1]); // { median: 1, q1: 0.95, q3: 1.05, min: 0.9, max: 1.1, relativeIqr: 0.1 }
 * ```
 */
export function spread(values: readonly number[]): Spread {
	const m = median(values);
	const q1 = quantile(values, 0.25);
	const q3 = quantile(values, 0.75);
	return {
		median: m,
		q1,
		q3,
		min: Math.min(...values),
		max: Math.max(...values),
		relativeIqr: (q3 - q1) / m,
	};
}

/** e.g. `0.612 (middle half 0.598–0.631, ±2.7 %; all 0.570–0.655, 16 rounds)`. */
export function describeSpread(s: Spread, rounds: number, digits = 3): string {
	const f = (v: number) => v.toFixed(digits);
	return `${f(s.median)} (middle half ${f(s.q1)}–${f(s.q3)}, ±${((s.relativeIqr / 2) * 100).toFixed(1)} %; all ${f(s.min)}–${f(s.max)}, ${rounds} rounds)`;
}
