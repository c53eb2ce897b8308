import { describe, expect, it } from "vitest";
import { describeSpread, median, quantile, spread } from "../bench/round-stats";

describe("round statistics", () => {
	it("takes the median of odd and even counts, whatever the order", () => {
		expect(median([3, 1, 2])).toBe(2);
		expect(median([4, 1, 3, 2])).toBe(2.5);
		expect(Number.isNaN(median([]))).toBe(true);
	});

	it("interpolates quartiles between neighbours", () => {
		expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
		expect(quantile([1, 2, 3, 4], 0.75)).toBeCloseTo(3.25);
	});

	it("reports the middle half relative to the median, and is not moved by one wild round", () => {
		const s = spread([0.9, 1, 1.1, 1, 9]);
		expect(s).toMatchObject({ median: 1, q1: 1, q3: 1.1, min: 0.9, max: 9 });
		expect(s.relativeIqr).toBeCloseTo(0.1);
		expect(describeSpread(s, 5)).toBe("1.000 (middle half 1.000–1.100, ±5.0 %; all 0.900–9.000, 5 rounds)");
	});
});
