/**
 * CPU time another process has used, read from Linux's /proc: what a benchmark charges to the
 * workerd process that runs a Worker, apart from the load generator and everything else on the
 * machine.
 *
 * The figure is the sum of the process's threads' `sum_exec_runtime` (`/proc/<pid>/task/<tid>/schedstat`,
 * nanoseconds of CPU actually given to the thread). `/proc/<pid>/stat`'s utime + stime count the
 * same time in clock ticks (10 ms here), too coarse for rounds of a second or two; it is the
 * fallback where schedstat is missing (a kernel without CONFIG_SCHED_INFO). Hardware instruction
 * counters (`perf stat -e instructions`) would not move with the neighbours at all, but the
 * virtual machines these benchmarks run on do not expose them (`<not supported>`), and
 * valgrind's callgrind slows a JIT like V8 fifty-fold, which changes what is measured.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";

/** Where the figure came from, to print beside it. */
type CpuSource = "schedstat" | "stat";

const TICKS_PER_SECOND = 100;

function threadsCpuNs(pid: number): bigint {
	let total = 0n;
	for (const tid of readdirSync(`/proc/${pid}/task`)) {
		try {
			total += BigInt(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]!);
		} catch {
			// The thread ended between the listing and the read: its time is gone with it.
		}
	}
	return total;
}

function statCpuNs(pid: number): bigint {
	// Fields after the command name (which may hold spaces, hence the last ")"): utime is field
	// 14 of the line, stime 15, in clock ticks.
	const line = readFileSync(`/proc/${pid}/stat`, "utf8");
	const fields = line.slice(line.lastIndexOf(")") + 2).split(" ");
	const ticks = BigInt(fields[11]!) + BigInt(fields[12]!);
	return (ticks * 1_000_000_000n) / BigInt(TICKS_PER_SECOND);
}

/** Which source this machine offers, checked on `pid`. */
export function cpuSource(pid: number): CpuSource {
	try {
		readFileSync(`/proc/${pid}/schedstat`, "utf8");
		return "schedstat";
	} catch {
		return "stat";
	}
}

/** CPU time used so far by process `pid` (all its threads), in nanoseconds. */
export function processCpuNs(pid: number, source: CpuSource = cpuSource(pid)): bigint {
	return source === "schedstat" ? threadsCpuNs(pid) : statCpuNs(pid);
}

/** The ids of this process's direct children whose command name contains `name`. */
export function childProcesses(name: string): number[] {
	const found: number[] = [];
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const line = readFileSync(`/proc/${entry}/stat`, "utf8");
			const command = line.slice(line.indexOf("(") + 1, line.lastIndexOf(")"));
			const parent = Number(line.slice(line.lastIndexOf(")") + 2).split(" ")[1]);
			if (parent === process.pid && command.includes(name)) found.push(Number(entry));
		} catch {
			// The process ended while the list was read.
		}
	}
	return found;
}
