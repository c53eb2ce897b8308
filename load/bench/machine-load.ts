/**
 * How busy the machine is, printed by the benchmarks before and after they measure: the load
 * average and the share of CPU time all cores spent busy over one second (from /proc/stat),
 * with a warning when other work was likely to move the figures.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";

/** Idle and total jiffies over all cores (the first line of /proc/stat). */
function cpuTimes(): { idle: number; total: number } | undefined {
	try {
		const fields = readFileSync("/proc/stat", "utf8")
			.split("\n")[0]!
			.trim()
			.split(/\s+/)
			.slice(1)
			.map(Number);
		// user nice system idle iowait irq softirq steal (guest time is already in user)
		const [user, nice, system, idle, iowait, irq, softirq, steal] = fields as number[];
		return {
			idle: idle! + iowait!,
			total: user! + nice! + system! + idle! + iowait! + irq! + softirq! + (steal ?? 0),
		};
	} catch {
		return undefined;
	}
}

interface MachineLoad {
	loadAverage: number[];
	/** Percent of all cores' time spent busy over the sample, or undefined without /proc/stat. */
	busyPercent: number | undefined;
	cores: number;
}

/** Samples the machine for `sampleMs` (default 1 s). */
export async function machineLoad(sampleMs = 1000): Promise<MachineLoad> {
	const before = cpuTimes();
	await new Promise((resolve) => setTimeout(resolve, sampleMs));
	const after = cpuTimes();
	const busyPercent =
		before && after && after.total > before.total
			? (100 * (after.total - before.total - (after.idle - before.idle))) / (after.total - before.total)
			: undefined;
	return { loadAverage: loadavg(), busyPercent, cores: cpus().length };
}

/**
 * Busy when, before the benchmark or after it stopped, more than a quarter of the cores' time
 * went to other work, or the 1-minute load average exceeds half the cores.
 */
export function isBusy(load: MachineLoad): boolean {
	return (load.busyPercent ?? 0) > 25 || load.loadAverage[0]! > load.cores / 2;
}

/** One line (plus a warning when busy), e.g. `machine before: load average 0.42 0.30 0.21, CPU 3 % busy (2 cores)`. */
export function describeMachineLoad(label: string, load: MachineLoad): string {
	const busy =
		load.busyPercent === undefined ? "CPU busy unknown" : `CPU ${load.busyPercent.toFixed(0)} % busy`;
	const line = `machine ${label}: load average ${load.loadAverage.map((l) => l.toFixed(2)).join(" ")}, ${busy} over 1 s (${load.cores} cores)`;
	return isBusy(load)
		? `${line}\n  warning: the machine is busy with other work; throughput and latency figures move with it, the CPU-time figures much less`
		: line;
}
