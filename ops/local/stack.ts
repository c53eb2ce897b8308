/**
 * The whole system on one machine: a database (embedded PGlite, or the Postgres named by a
 * URL), the committed migrations applied, the local Neon HTTP endpoint in front of it, a local
 * EVM chain with USDT-like tokens to verify deposits on (anvil, ./local-chain.ts), and
 * `wrangler dev` running the edge Worker, the API Worker behind its service binding and the
 * consumer Worker together, sharing the local queue, behind the intake gate (./intake-gate.ts)
 * that owns the public edge port. `npm start`
 * prints around it; tests start and stop it.
 *
 * Supervised: every fixed port is checked before anything starts; readiness waits for the
 * health answer carrying this start's own id (`LOCAL_START_ID`), so Workers left over from an
 * earlier start are never taken for ours, and for the API Worker's answer through the edge; once running, any part that dies (wrangler, anvil,
 * the Neon endpoint or the gate failing) resolves `failed`, and the caller stops the rest.
 *
 * Miniflare's local queue lives in memory: what it holds when the process ends is lost.
 * `drain()` closes intake (503 + Retry-After) and waits until the ledger holds every deposit
 * accepted since start, so a stop loses nothing; Cloudflare's queue in production keeps its
 * messages across any restart of the Workers.
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { createServer } from "node:net";
import { splitSecrets } from "../../shared/webhook-secrets";
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
import { type DrainResult, waitForLedger } from "./drain";
import { type IntakeGate, startIntakeGate } from "./intake-gate";
import {
	consumerChainVars,
	DEFAULT_ANVIL_PORT,
	LOCAL_BLOCK_TIME_SECONDS,
	startLocalChain,
} from "./local-chain";
import { type NeonHttpServer, startNeonHttpServer } from "./neon-http-server";
import { startRecheckRunner } from "./recheck-runner";
import { wranglerEnv, wranglerScript } from "./wrangler";

interface LocalStackOptions {
	/** Port of the edge Worker; 0 picks a free one. Default 8787. */
	edgePort?: number;
	/** Port of the local Neon endpoint; 0 picks a free one. Default 4444. */
	neonPort?: number;
	/** A real Postgres to use instead of the embedded one (its database is used as it is). */
	databaseUrl?: string;
	/** Where the embedded database keeps its files. Default `.data/pglite`. */
	dataDir?: string;
	/**
	 * Where wrangler keeps its local state (Durable Objects, rate limits, R2). Default
	 * `.wrangler/state`. Not the queue: Miniflare's queue is in memory only.
	 */
	persistTo?: string;
	/** Port of the local chain (anvil); 0 picks a free one. Default 8545. */
	chainPort?: number;
	/** "chain" (default): the consumer verifies deposits on the local chain; "sender": it trusts signed webhooks. */
	chainVerification?: "chain" | "sender";
	/** `WEBHOOK_SECRETS` of the Workers. Default: the local secret. */
	webhookSecrets?: string;
	/**
	 * More settings for the Workers, e.g. the console's Cloudflare API address and credentials
	 * pointing at a local stand-in of that API. They reach the Workers through wrangler's
	 * environment, as the secrets do: `wrangler dev --var` reaches only the first config of a
	 * session, so a Worker takes from them what its config declares (a var or a secret).
	 */
	vars?: Record<string, string>;
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
	/** This start's id, which the edge Worker's health answer carries (`start_id`). */
	startId: string;
	/** Deposits answered 202 since start that the ledger may not hold yet. */
	readonly accepted: ReadonlyMap<string, number | null>;
	/**
	 * Resolves with what happened when a part of the stack dies by itself; the stack is then
	 * half alive and the caller must `stop()` it.
	 */
	readonly failed: Promise<string>;
	/**
	 * Closes intake (503 + Retry-After from then on), waits for requests under way, then until
	 * the ledger holds every deposit accepted since start, at most `timeoutMs` (default 120 s)
	 * or until `signal` aborts. Progress through `onProgress`.
	 */
	drain(options?: {
		timeoutMs?: number;
		signal?: AbortSignal;
		onProgress?: (line: string) => void;
	}): Promise<DrainResult>;
	stop(): Promise<void>;
}

/** Seconds a sender is told to wait while the stack stops (Retry-After). */
const STOPPING_RETRY_AFTER_SECONDS = 30;

/** A port the stack listens on, and the variable that moves it, for the error when it is taken. */
interface FixedPort {
	port: number;
	what: string;
	variable: string;
}

function portTaken(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const probe = createServer();
		probe.once("error", () => resolve(true));
		probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(false)));
	});
}

/**
 * Refuses to start, before anything starts, when a port the stack needs is in use: most often
 * by an earlier `npm start` still running (or its leftover Workers).
 */
async function assertPortsFree(ports: FixedPort[]): Promise<void> {
	const taken: FixedPort[] = [];
	for (const p of ports) if (p.port !== 0 && (await portTaken(p.port))) taken.push(p);
	if (!taken.length) return;
	const list = taken.map((p) => `${p.port} (${p.what}, ${p.variable})`).join(", ");
	throw new Error(
		`port${taken.length > 1 ? "s" : ""} ${list} ${taken.length > 1 ? "are" : "is"} already in use on 127.0.0.1, so nothing was started. ` +
			"Another npm start (or Workers left over from one) is probably running: stop it (Ctrl-C in its terminal, " +
			`or find it with \`lsof -i :${taken[0]!.port}\`), or set ${taken.map((p) => p.variable).join(" / ")} to free ports.`,
	);
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

/**
 * Waits until the edge Worker's health answer carries this start's id and the API Worker answers
 * through the edge's service binding (its OpenAPI document: no database, no rate limit).
 */
async function waitForWorkers(
	origin: string,
	startId: string,
	child: ChildProcess,
	output: () => string,
	timeoutMs: number,
) {
	const health = `${origin}/api/v1/health`;
	const deadline = Date.now() + timeoutMs;
	let stranger = false;
	let edgeOnly = false;
	while (Date.now() < deadline) {
		if (child.exitCode !== null) {
			throw new Error(
				`wrangler dev exited with code ${child.exitCode} before the Workers answered:\n${output()}`,
			);
		}
		try {
			const res = await fetch(health, { signal: AbortSignal.timeout(2_000) });
			if (res.ok) {
				// Only our own Workers know this start's id.
				if (((await res.json()) as { start_id?: unknown }).start_id === startId) {
					edgeOnly = true;
					const api = await fetch(`${origin}/api/v1/openapi.json`, { signal: AbortSignal.timeout(2_000) });
					await api.body?.cancel();
					if (api.ok) return;
				} else stranger = true;
			}
		} catch {
			// Not listening yet.
		}
		await new Promise((r) => setTimeout(r, 250));
	}
	throw new Error(
		stranger
			? `${health} answered, but not with this start's id: those are other Workers (an earlier start left running?). Stop them and start again.\n${output()}`
			: edgeOnly
				? `the edge Worker answered, but the API Worker did not answer through it (${origin}/api/v1/openapi.json) within ${timeoutMs / 1000} s:\n${output()}`
				: `the Workers did not answer ${health} within ${timeoutMs / 1000} s:\n${output()}`,
	);
}

/** Signals the child's whole process group (it is `detached`: wrangler's workerd is in it). */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): boolean {
	try {
		process.kill(-child.pid!, signal);
		return true;
	} catch {
		return false; // the group is gone
	}
}

function stopChild(child: ChildProcess): Promise<void> {
	if (child.exitCode !== null || child.signalCode !== null) {
		// wrangler itself is gone, but what it started (workerd) may live on in its group.
		signalGroup(child, "SIGKILL");
		return Promise.resolve();
	}
	return new Promise((resolve) => {
		const kill = setTimeout(() => signalGroup(child, "SIGKILL"), 10_000);
		child.once("exit", () => {
			clearTimeout(kill);
			// Leftovers of its group (workerd) go with it.
			signalGroup(child, "SIGKILL");
			resolve();
		});
		child.kill("SIGTERM");
	});
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
	const progress = options.onProgress ?? (() => {});
	const webhookSecrets = options.webhookSecrets ?? LOCAL_WEBHOOK_SECRET;
	const cleanups: (() => Promise<void>)[] = [];
	let stopping = false;
	const cleanup = async () => {
		stopping = true;
		for (const fn of cleanups.reverse()) await fn().catch(() => {});
		cleanups.length = 0;
	};
	let reportFailure: (what: string) => void = () => {};
	const failed = new Promise<string>((resolve) => {
		reportFailure = (what) => {
			if (!stopping) resolve(what);
		};
	});
	const edgePortOption = options.edgePort ?? DEFAULT_EDGE_PORT;
	const neonPortOption = options.neonPort ?? DEFAULT_NEON_PORT;
	const chainPortOption = options.chainPort ?? DEFAULT_ANVIL_PORT;
	await assertPortsFree([
		{ port: edgePortOption, what: "the edge Worker", variable: "EDGE_PORT" },
		{ port: neonPortOption, what: "the local Neon endpoint", variable: "NEON_PORT" },
		{ port: chainPortOption, what: "the local chain", variable: "ANVIL_PORT" },
	]);
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

		const neon: NeonHttpServer = await startNeonHttpServer(database.backend, neonPortOption).catch(
			(error: NodeJS.ErrnoException) => {
				throw error.code === "EADDRINUSE"
					? new Error(
							`port ${neonPortOption} for the local Neon endpoint is taken: stop what uses it or set NEON_PORT`,
						)
					: error;
			},
		);
		cleanups.push(() => neon.close());
		progress(`Neon HTTP endpoint: ${neon.endpoint}`);

		const chain = await startLocalChain({ port: chainPortOption, blockTime: LOCAL_BLOCK_TIME_SECONDS });
		cleanups.push(() => chain.stop());
		chain.exited.then((how) => reportFailure(`the local chain (anvil) ${how}`));
		progress(
			`local chain: anvil at ${chain.rpcUrl}, USDT-like tokens deployed (${options.chainVerification ?? "chain"} verification)`,
		);

		// wrangler listens on a private port; the gate takes the public one once the Workers answer.
		const workersPort = await freePort();
		const inspectorPort = await freePort();
		const startId = randomUUID();
		const databaseUrl = database.connectionString(databaseName);
		const chainVars = consumerChainVars(chain, options.chainVerification ?? "chain");
		progress(
			"starting the Workers with wrangler dev (edge Worker, API Worker behind it, queue consumer; shared local queue) …",
		);
		// The first config is the one served on the port; the edge reaches the API Worker through
		// its `API` service binding, which wrangler dev resolves between the configs of one session.
		const args = [
			wranglerScript(),
			"dev",
			"-c",
			"wrangler.toml",
			"-c",
			"api/wrangler.toml",
			"-c",
			"queue-consumer/wrangler.toml",
			"--ip",
			"127.0.0.1",
			"--port",
			String(workersPort),
			"--inspector-port",
			String(inspectorPort),
			"--show-interactive-dev-session=false",
			"--log-level",
			"log",
			// The edge Worker's health answer carries it: readiness proves the Workers are ours.
			"--var",
			`LOCAL_START_ID:${startId}`,
		];
		if (options.persistTo) args.push("--persist-to", options.persistTo);
		const child = spawn(process.execPath, args, {
			stdio: ["ignore", "pipe", "pipe"],
			// A group of its own: Ctrl-C in the terminal reaches only this process, which drains
			// the queue first and then stops wrangler itself.
			detached: true,
			// Secrets reach the Workers from the environment (each config declares its own); a
			// .dev.vars file beside a config would take precedence.
			env: wranglerEnv({
				DATABASE_URL: databaseUrl,
				NEON_HTTP_ENDPOINT: neon.endpoint,
				WEBHOOK_SECRETS: webhookSecrets,
				// The other webhook sources' secrets (X-Signature, Moralis, Alchemy).
				...localSourceSecrets(),
				JWT_SECRET: process.env.JWT_SECRET ?? LOCAL_JWT_SECRET,
				...chainVars,
				...options.vars,
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

		await waitForWorkers(
			`http://127.0.0.1:${workersPort}`,
			startId,
			child,
			() => recent.join("\n"),
			options.readyTimeoutMs ?? 90_000,
		);
		ready = true;
		child.once("exit", (code, signal) =>
			reportFailure(
				`wrangler dev (the Workers and the local queue) ${signal ? `was killed by ${signal}` : `exited with code ${code}`}:\n${recent.slice(-15).join("\n")}`,
			),
		);
		const gate: IntakeGate = await startIntakeGate(
			edgePortOption === 0 ? 0 : edgePortOption,
			workersPort,
		).catch((error: NodeJS.ErrnoException) => {
			throw error.code === "EADDRINUSE"
				? new Error(
						`port ${edgePortOption} for the edge Worker was taken while starting: stop what uses it or set EDGE_PORT`,
					)
				: error;
		});
		cleanups.push(() => gate.close());
		const baseUrl = `http://127.0.0.1:${gate.port}`;
		progress(`edge Worker answering at ${baseUrl} (start ${startId})`);
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
			startId,
			accepted: gate.accepted,
			failed,
			async drain(drainOptions = {}) {
				gate.closeIntake(STOPPING_RETRY_AFTER_SECONDS);
				// Requests under way get their answer (and a 202 is counted) before the wait.
				await Promise.race([gate.idle(), new Promise((r) => setTimeout(r, 15_000))]);
				return waitForLedger(database.backend, databaseName, gate.accepted, {
					timeoutMs: drainOptions.timeoutMs ?? 120_000,
					signal: drainOptions.signal,
					onProgress: drainOptions.onProgress,
				});
			},
			stop: cleanup,
		};
	} catch (error) {
		await cleanup();
		throw error;
	}
}
