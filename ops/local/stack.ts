/**
 * The whole system on one machine: a database (embedded PGlite, or the Postgres named by a
 * URL), the committed migrations applied, the local Neon HTTP endpoint in front of it, a local
 * EVM chain with USDT-like tokens to verify deposits on (anvil, ./local-chain.ts), and
 * `wrangler dev` running the edge Worker and the consumer Worker together, sharing the local
 * queue. `npm start` prints around it; tests start and stop it.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { splitSecrets } from "../../worker/src/lib/webhook-secrets";
import { redact } from "../migrate";
import { type LocalDatabase, openLocalDatabase } from "./database";
import {
	DEFAULT_EDGE_PORT,
	DEFAULT_NEON_PORT,
	LOCAL_DATA_DIR,
	LOCAL_DATABASE,
	LOCAL_JWT_SECRET,
	LOCAL_WEBHOOK_SECRET,
	localSourceSecrets,
} from "./defaults";
import {
	consumerChainVars,
	DEFAULT_ANVIL_PORT,
	LOCAL_BLOCK_TIME_SECONDS,
	startLocalChain,
} from "./local-chain";
import { type NeonHttpServer, startNeonHttpServer } from "./neon-http-server";
import { startRecheckRunner } from "./recheck-runner";
import { wranglerEnv, wranglerScript } from "./wrangler";

export interface LocalStackOptions {
	/** Port of the edge Worker; 0 picks a free one. Default 8787. */
	edgePort?: number;
	/** Port of the local Neon endpoint; 0 picks a free one. Default 4444. */
	neonPort?: number;
	/** A real Postgres to use instead of the embedded one (its database is used as it is). */
	databaseUrl?: string;
	/** Where the embedded database keeps its files. Default `.data/pglite`. */
	dataDir?: string;
	/** Where wrangler keeps local queue state. Default `.wrangler/state`. */
	persistTo?: string;
	/** Port of the local chain (anvil); 0 picks a free one. Default 8545. */
	chainPort?: number;
	/** "chain" (default): the consumer verifies deposits on the local chain; "sender": it trusts signed webhooks. */
	chainVerification?: "chain" | "sender";
	/** `WEBHOOK_SECRETS` of the Workers. Default: the local secret. */
	webhookSecrets?: string;
	/** Progress lines; default prints nothing. */
	onProgress?: (line: string) => void;
	/** Worker log lines (wrangler's output) once the Workers answer; default discards them. */
	onLog?: (line: string) => void;
	/** How long to wait for the Workers to answer, ms. Default 90 s. */
	readyTimeoutMs?: number;
}

export interface LocalStack {
	baseUrl: string;
	/** The first webhook secret, to sign test webhooks with. */
	webhookSecret: string;
	/** Connection string the Workers use (for the embedded database, a placeholder URL). */
	databaseUrl: string;
	/** Where the Workers' Neon driver sends SQL; also usable from Node with the driver. */
	neonEndpoint: string;
	/** The local chain's JSON-RPC endpoint. */
	chainRpcUrl: string;
	describeDatabase: string;
	stop(): Promise<void>;
}

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number) {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			throw new Error(
				`wrangler dev exited with code ${child.exitCode} before the Workers answered:\n${output()}`,
			);
		}
		try {
			const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
			if (res.ok) return;
		} catch {
			// Not listening yet.
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(`the Workers did not answer ${url} within ${timeoutMs / 1000} s:\n${output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
	return new Promise((resolve) => {
		const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
		child.once("exit", () => {
			clearTimeout(kill);
			resolve();
		});
		child.kill("SIGTERM");
	});
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
	const progress = options.onProgress ?? (() => {});
	const webhookSecrets = options.webhookSecrets ?? LOCAL_WEBHOOK_SECRET;
	const cleanups: (() => Promise<void>)[] = [];
	const cleanup = async () => {
		for (const fn of cleanups.reverse()) await fn().catch(() => {});
	};
	try {
		let database: LocalDatabase;
		let databaseName: string;
		if (options.databaseUrl) {
			const url = new URL(options.databaseUrl);
			databaseName = decodeURIComponent(url.pathname.replace(/^\//, "")) || "postgres";
			url.pathname = "/";
			progress(`database: Postgres at ${redact(options.databaseUrl)}; applying migrations …`);
			database = await openLocalDatabase({ url: url.toString(), databases: [databaseName] });
		} else {
			databaseName = LOCAL_DATABASE;
			const dataDir = options.dataDir ?? LOCAL_DATA_DIR;
			progress(`database: embedded Postgres (PGlite) in ${dataDir}; starting and applying migrations …`);
			database = await openLocalDatabase({ dataDir, databases: [databaseName] });
		}
		cleanups.push(() => database.close());

		const neon: NeonHttpServer = await startNeonHttpServer(
			database.backend,
			options.neonPort ?? DEFAULT_NEON_PORT,
		).catch((error: NodeJS.ErrnoException) => {
			throw error.code === "EADDRINUSE"
				? new Error(
						`port ${options.neonPort ?? DEFAULT_NEON_PORT} for the local Neon endpoint is taken: stop what uses it or set NEON_PORT`,
					)
				: error;
		});
		cleanups.push(() => neon.close());
		progress(`Neon HTTP endpoint: ${neon.endpoint}`);

		const chain = await startLocalChain({
			port: options.chainPort ?? DEFAULT_ANVIL_PORT,
			blockTime: LOCAL_BLOCK_TIME_SECONDS,
		});
		cleanups.push(() => chain.stop());
		progress(
			`local chain: anvil at ${chain.rpcUrl}, USDT-like tokens deployed (${options.chainVerification ?? "chain"} verification)`,
		);

		const edgePort = options.edgePort === 0 ? await freePort() : (options.edgePort ?? DEFAULT_EDGE_PORT);
		const inspectorPort = await freePort();
		const databaseUrl = database.connectionString(databaseName);
		const chainVars = consumerChainVars(chain, options.chainVerification ?? "chain");
		progress("starting both Workers with wrangler dev (edge Worker + queue consumer, shared local queue) …");
		const args = [
			wranglerScript(),
			"dev",
			"-c",
			"wrangler.toml",
			"-c",
			"queue-consumer/wrangler.toml",
			"--ip",
			"127.0.0.1",
			"--port",
			String(edgePort),
			"--inspector-port",
			String(inspectorPort),
			"--show-interactive-dev-session=false",
			"--log-level",
			"log",
		];
		if (options.persistTo) args.push("--persist-to", options.persistTo);
		const child = spawn(process.execPath, args, {
			stdio: ["ignore", "pipe", "pipe"],
			// Secrets reach both Workers from the environment (both configs declare them); a
			// .dev.vars file beside a config would take precedence.
			env: wranglerEnv({
				DATABASE_URL: databaseUrl,
				NEON_HTTP_ENDPOINT: neon.endpoint,
				WEBHOOK_SECRETS: webhookSecrets,
				// The other webhook sources' secrets (X-Signature, Moralis, Alchemy).
				...localSourceSecrets(),
				JWT_SECRET: process.env.JWT_SECRET ?? LOCAL_JWT_SECRET,
				...chainVars,
				FORCE_COLOR: "0",
			}),
		});
		cleanups.push(() => stopChild(child));
		// Start-up output (the bindings tables) is kept for the error message if start fails.
		const recent: string[] = [];
		let ready = false;
		const onLine = (chunk: Buffer) => {
			for (const line of chunk.toString("utf8").split("\n")) {
				if (!line.trim()) continue;
				recent.push(line);
				if (recent.length > 40) recent.shift();
				if (ready) options.onLog?.(line);
			}
		};
		child.stdout?.on("data", onLine);
		child.stderr?.on("data", onLine);

		const baseUrl = `http://127.0.0.1:${edgePort}`;
		await waitForHealth(
			`${baseUrl}/api/v1/health`,
			child,
			() => recent.join("\n"),
			options.readyTimeoutMs ?? 90_000,
		);
		ready = true;
		progress(`edge Worker answering at ${baseUrl}`);
		if ((options.chainVerification ?? "chain") === "chain") {
			// The consumer's cron trigger, which wrangler dev does not fire (recheck-runner.ts).
			const recheck = await startRecheckRunner({
				databaseUrl,
				neonEndpoint: neon.endpoint,
				vars: chainVars,
				onLog: (line) => options.onLog?.(line),
			});
			cleanups.push(() => recheck.stop());
			progress("chain re-check of pending and recent deposits every 3 s (the consumer's cron trigger)");
		}
		return {
			baseUrl,
			webhookSecret: splitSecrets(webhookSecrets)[0] ?? webhookSecrets,
			databaseUrl,
			neonEndpoint: neon.endpoint,
			chainRpcUrl: chain.rpcUrl,
			describeDatabase: database.backend.description,
			stop: cleanup,
		};
	} catch (error) {
		await cleanup();
		throw error;
	}
}
