/**
 * Starts and stops anvil, a local EVM chain, from the npm package `@foundry-rs/anvil` (its
 * platform package carries the binary, which is run directly: no wrapper process stands
 * between a stop and the chain). Used by the test setup and by the local stack.
 *
 * Anvil binds the port itself (`--port 0` picks a free one, printed in "Listening on …"), so
 * there is no window between choosing a port and taking it.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";

/** Anvil's default development mnemonic: its ten accounts are funded with 10,000 ETH each. */
export const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

export interface AnvilOptions {
	/** Port on 127.0.0.1; 0 (the default) picks a free one. */
	port?: number;
	/** Seconds between blocks; without it a block is mined for each transaction (automine). */
	blockTime?: number;
	/** Default 31337, anvil's own. */
	chainId?: number;
	/** How long to wait for anvil to listen, ms. Default 20 s. */
	readyTimeoutMs?: number;
}

export interface Anvil {
	/** JSON-RPC endpoint, e.g. `http://127.0.0.1:8545`. */
	rpcUrl: string;
	port: number;
	/** Stops anvil (SIGTERM, SIGKILL after 5 s); the chain's state is gone. */
	stop(): Promise<void>;
	/** Resolves, with how it ended, when anvil exits by itself (not through `stop`). */
	readonly exited: Promise<string>;
}

const PLATFORM_PACKAGES: Record<string, string> = {
	"linux-x64": "@foundry-rs/anvil-linux-amd64",
	"linux-arm64": "@foundry-rs/anvil-linux-arm64",
	"darwin-x64": "@foundry-rs/anvil-darwin-amd64",
	"darwin-arm64": "@foundry-rs/anvil-darwin-arm64",
	"win32-x64": "@foundry-rs/anvil-win32-amd64",
};

/** The anvil binary: `ANVIL_BIN` when set, else the one in this platform's npm package. */
function anvilBinary(): string {
	if (process.env.ANVIL_BIN) return process.env.ANVIL_BIN;
	const platform = `${process.platform}-${process.arch}`;
	const pkg = PLATFORM_PACKAGES[platform];
	if (!pkg) {
		throw new Error(
			`anvil is not packaged for ${platform}: install foundry's anvil yourself and set ANVIL_BIN to it`,
		);
	}
	const binary = `bin/anvil${process.platform === "win32" ? ".exe" : ""}`;
	try {
		const path = createRequire(import.meta.url).resolve(`${pkg}/${binary}`);
		if (existsSync(path)) return path;
	} catch {
		// Reported below.
	}
	throw new Error(
		`the anvil binary is missing: ${pkg} is not installed. It comes with @foundry-rs/anvil as an optional dependency: run npm ci (without --omit=optional), or set ANVIL_BIN`,
	);
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const kill = setTimeout(() => child.kill("SIGKILL"), 5_000);
		child.once("exit", () => {
			clearTimeout(kill);
			resolve();
		});
		child.kill("SIGTERM");
	});
}

/**
 * Starts anvil on 127.0.0.1 and resolves once it answers JSON-RPC.
 *
 * @throws when the binary is missing, the port is taken, or anvil does not answer in time;
 *   the message carries anvil's own output.
 * @example
 * ```ts
 * const anvil = await startAnvil({ blockTime: 1 });
 * // … viem clients on anvil.rpcUrl …
 * await anvil.stop();
 * ```
 */
export async function startAnvil(options: AnvilOptions = {}): Promise<Anvil> {
	const args = ["--host", "127.0.0.1", "--port", String(options.port ?? 0), "--mnemonic", ANVIL_MNEMONIC];
	if (options.chainId !== undefined) args.push("--chain-id", String(options.chainId));
	if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));
	// A process group of its own: Ctrl-C in a terminal reaches the process that started it,
	// which stops it in its turn (after draining, for the local stack).
	const child = spawn(anvilBinary(), args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
	const output: string[] = [];
	const timeoutMs = options.readyTimeoutMs ?? 20_000;
	try {
		const port = await new Promise<number>((resolve, reject) => {
			const timer = setTimeout(
				() => reject(new Error(`anvil did not listen within ${timeoutMs / 1000} s`)),
				timeoutMs,
			);
			const onData = (chunk: Buffer) => {
				const text = chunk.toString("utf8");
				output.push(text);
				const listening = /Listening on 127\.0\.0\.1:(\d+)/.exec(output.join(""));
				if (listening) {
					clearTimeout(timer);
					resolve(Number(listening[1]));
				}
			};
			child.stdout?.on("data", onData);
			child.stderr?.on("data", onData);
			child.once("error", (error) => {
				clearTimeout(timer);
				reject(error);
			});
			child.once("exit", (code, signal) => {
				clearTimeout(timer);
				reject(new Error(`anvil exited (${signal ?? `code ${code}`}) before it listened`));
			});
		});
		// Keep draining its output, so a full pipe never blocks the chain.
		child.stdout?.removeAllListeners("data").resume();
		child.stderr?.removeAllListeners("data").resume();
		const rpcUrl = `http://127.0.0.1:${port}`;
		let stopping = false;
		const exited = new Promise<string>((resolve) => {
			child.once("exit", (code, signal) => {
				if (!stopping) resolve(signal ? `killed by ${signal}` : `exited with code ${code}`);
			});
		});
		return {
			rpcUrl,
			port,
			stop: () => {
				stopping = true;
				return stopChild(child);
			},
			exited,
		};
	} catch (error) {
		await stopChild(child);
		const taken = /Address already in use|os error 98/i.test(output.join(""))
			? ` Port ${options.port} is taken: stop what uses it or choose another port (ANVIL_PORT for npm start).`
			: "";
		throw new Error(
			`could not start anvil (${anvilBinary()} ${args.join(" ")}): ${(error as Error).message}.${taken}\n${output.join("").slice(-2_000)}`,
		);
	}
}
