/**
 * Runs the ops CLI as a user does, through its `ops` bin in a child process, and collects its
 * exit code and output.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../../bin/ops.js", import.meta.url));
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

interface OpsResult {
	code: number;
	stdout: string;
	stderr: string;
	/** stdout and stderr interleaved as printed. */
	output: string;
}

/**
 * Runs `ops <args>` from the repository root with `env` added to this process's environment.
 * `interruptWhen`: press Ctrl-C (SIGINT to the process group, as a terminal does) once the
 * output so far satisfies it.
 */
export function runOps(
	args: string[],
	env: Record<string, string | undefined> = {},
	interruptWhen?: (output: string) => boolean,
): Promise<OpsResult> {
	return new Promise((resolve, reject) => {
		const child = spawn(process.execPath, [BIN, ...args], {
			cwd: ROOT,
			env: { ...process.env, FORCE_COLOR: "0", ...env },
			stdio: ["ignore", "pipe", "pipe"],
			detached: interruptWhen !== undefined,
		});
		let interrupted = false;
		const check = () => {
			if (interruptWhen && !interrupted && child.pid && interruptWhen(output)) {
				interrupted = true;
				process.kill(-child.pid, "SIGINT");
			}
		};
		let stdout = "";
		let stderr = "";
		let output = "";
		child.stdout.on("data", (d: Buffer) => {
			stdout += d;
			output += d;
			check();
		});
		child.stderr.on("data", (d: Buffer) => {
			stderr += d;
			output += d;
		});
		child.on("error", reject);
		child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output }));
	});
}
