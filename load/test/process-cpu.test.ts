import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { childProcesses, cpuSource, processCpuNs } from "../bench/process-cpu";

/** A child that spins for `ms` of its own CPU time, then waits to be killed. */
function spinner(ms: number) {
	return spawn(
		process.execPath,
		[
			"-e",
			`const { cpuUsage } = process; const s = cpuUsage(); while ((cpuUsage(s).user + cpuUsage(s).system) / 1000 < ${ms}) {} console.log("done"); setInterval(() => {}, 1000);`,
		],
		{ stdio: ["ignore", "pipe", "inherit"] },
	);
}

describe.runIf(process.platform === "linux")("CPU time of another process, from /proc", () => {
	it("counts what a child spent on the CPU, not the time it waited, and finds it among this process's children", async () => {
		const child = spinner(300);
		try {
			const pid = child.pid!;
			expect(childProcesses("node")).toContain(pid);
			await new Promise<void>((resolve) => child.stdout!.once("data", () => resolve()));
			const used = processCpuNs(pid);
			// It spun for 300 ms of its own CPU (plus Node's start-up), however busy the machine.
			expect(Number(used) / 1e6).toBeGreaterThan(280);
			expect(Number(used) / 1e6).toBeLessThan(3000);
			await new Promise((resolve) => setTimeout(resolve, 300));
			const idle = Number(processCpuNs(pid) - used) / 1e6;
			expect(idle).toBeLessThan(50);
			expect(["schedstat", "stat"]).toContain(cpuSource(pid));
			expect(Math.abs(Number(processCpuNs(pid, "stat") - processCpuNs(pid, "schedstat")) / 1e6)).toBeLessThan(
				60,
			);
		} finally {
			child.kill();
		}
	});

	it("fails clearly for a process that is not there", () => {
		expect(() => processCpuNs(2 ** 22 + 12345)).toThrow(/ENOENT/);
	});
});
