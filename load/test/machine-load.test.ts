import { describe, expect, it } from "vitest";
import { describeMachineLoad, isBusy, machineLoad } from "../bench/machine-load";

describe("machine load", () => {
	it("samples the load average and the share of busy CPU", async () => {
		const load = await machineLoad(200);
		expect(load.loadAverage).toHaveLength(3);
		if (process.platform === "linux") {
			expect(load.busyPercent).toBeGreaterThanOrEqual(0);
			expect(load.busyPercent).toBeLessThanOrEqual(100);
		}
	});

	it("warns when other work takes a quarter of the CPU or the load average passes half the cores", () => {
		const quiet = { loadAverage: [0.4, 0.3, 0.2], busyPercent: 5, cores: 2 };
		expect(isBusy(quiet)).toBe(false);
		expect(describeMachineLoad("before", quiet)).toBe(
			"machine before: load average 0.40 0.30 0.20, CPU 5 % busy over 1 s (2 cores)",
		);
		expect(isBusy({ ...quiet, busyPercent: 40 })).toBe(true);
		expect(isBusy({ ...quiet, loadAverage: [1.5, 1, 1] })).toBe(true);
		expect(describeMachineLoad("after", { ...quiet, busyPercent: 40 })).toMatch(
			/warning: the machine is busy/,
		);
	});
});
