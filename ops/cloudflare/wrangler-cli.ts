/**
 * Runs wrangler commands for the rollout and rollback commands and reads their results from
 * wrangler's machine-readable output (`WRANGLER_OUTPUT_FILE_PATH`: one JSON event per line,
 * such as `version-upload`, `version-deploy` and `command-failed`), never from its console
 * text. `deployments status|list --json` print JSON on stdout, which is read as such.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { wranglerEnv, wranglerScript } from "../local/wrangler";

/** One line of wrangler's output file. */
interface WranglerEvent {
	type: string;
	[key: string]: unknown;
}

interface WranglerRun {
	events: WranglerEvent[];
	stdout: string;
	stderr: string;
}

/** A wrangler command that failed; the message carries wrangler's own reason. */
class WranglerError extends Error {
	override name = "WranglerError";
	constructor(
		message: string,
		readonly command: string,
		readonly logFile: string | undefined,
	) {
		super(message);
	}
}

/** Which Worker a command is about: its wrangler config and environment. */
export interface WranglerTarget {
	configPath: string;
	/** wrangler `--env`; undefined for the top level. */
	env: string | undefined;
}

/** Runs `wrangler <args> -c <config> [--env <env>]`; throws a {@link WranglerError} on failure. */
export type RunWrangler = (target: WranglerTarget, args: string[]) => Promise<WranglerRun>;

/** The printable form of a wrangler command, for messages and recovery instructions. */
export function commandLine(target: WranglerTarget, args: string[]): string {
	const all = [...args, "-c", target.configPath, ...(target.env ? ["--env", target.env] : [])];
	return `npx wrangler ${all.map((a) => (/^[\w@%.:/=-]+$/.test(a) ? a : JSON.stringify(a))).join(" ")}`;
}

function parseEvents(text: string): WranglerEvent[] {
	return text
		.split("\n")
		.filter((line) => line.trim())
		.flatMap((line) => {
			try {
				return [JSON.parse(line) as WranglerEvent];
			} catch {
				return [];
			}
		});
}

/** Runs real wrangler from node_modules under the current Node, with the environment given. */
export const runWrangler: RunWrangler = async (target, args) => {
	const dir = await mkdtemp(join(tmpdir(), "cricalgo-wrangler-"));
	const outputFile = join(dir, "output.ndjson");
	const fullArgs = [...args, "-c", target.configPath, ...(target.env ? ["--env", target.env] : [])];
	try {
		const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
			(resolve, reject) => {
				const child = spawn(process.execPath, [wranglerScript(), ...fullArgs], {
					stdio: ["ignore", "pipe", "pipe"],
					// `--json` output goes through wrangler's logger: a quieter WRANGLER_LOG in the
					// caller's environment would swallow it.
					env: wranglerEnv({
						WRANGLER_OUTPUT_FILE_PATH: outputFile,
						WRANGLER_LOG: "log",
						FORCE_COLOR: "0",
						CI: "true",
					}),
				});
				let out = "";
				let err = "";
				child.stdout.on("data", (d: Buffer) => {
					out += d.toString("utf8");
				});
				child.stderr.on("data", (d: Buffer) => {
					err += d.toString("utf8");
				});
				child.on("error", reject);
				child.on("close", (c) => resolve({ code: c ?? 1, stdout: out, stderr: err }));
			},
		);
		const events = parseEvents(await readFile(outputFile, "utf8").catch(() => ""));
		if (code !== 0) {
			const failed = events.find((e) => e.type === "command-failed");
			const session = events.find((e) => e.type === "wrangler-session");
			const reason =
				(typeof failed?.message === "string" && failed.message) ||
				stderr.trim().split("\n").slice(-5).join("\n") ||
				`exit code ${code}`;
			const logFile = typeof session?.log_file_path === "string" ? session.log_file_path : undefined;
			throw new WranglerError(
				`\`${commandLine(target, args)}\` failed: ${reason}${logFile ? ` (wrangler's log: ${logFile})` : ""}`,
				commandLine(target, args),
				logFile,
			);
		}
		return { events, stdout, stderr };
	} finally {
		await rm(dir, { recursive: true, force: true });
	}
};
