/**
 * The local stack under faults, on a Postgres cluster of this test's own (so it can be crashed):
 * the database killed (immediate shutdown) and its connections reset mid-batch under load, the
 * stack living on and every accepted deposit credited after recovery; a second start refused
 * before anything starts; `npm start` stopped with Ctrl-C under load, every 202 credited before
 * it exits; a part of the stack killed, the rest stopped with a non-zero exit.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { neon, neonConfig } from "@neondatabase/serverless";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../local/stack";
import { type ResetProxy, startResetProxy } from "./support/reset-proxy";
import {
	postgresBinaries,
	startThrowawayPostgres,
	type ThrowawayPostgres,
} from "./support/throwaway-postgres";
import { DEPOSIT_AMOUNT, startWebhookLoad } from "./support/webhook-load";

const haveServer = postgresBinaries() !== undefined;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function registerPlayer(baseUrl: string, username: string): Promise<string> {
	const res = await fetch(`${baseUrl}/api/v1/register`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ username, password: "correct horse battery staple" }),
	});
	expect(res.status).toBe(201);
	return ((await res.json()) as { id: string }).id;
}

/** The accepted deposits that are not credited (ledger read over TCP, not through the stack). */
async function uncredited(url: string, txIds: string[]): Promise<string[]> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const { rows } = await client.query<{ id: string }>(
			`SELECT a.id::text FROM unnest($1::uuid[]) AS a(id)
			 WHERE NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id = a.id AND d.status = 'credited')`,
			[txIds],
		);
		return rows.map((r) => r.id);
	} finally {
		await client.end();
	}
}

async function walletBalance(url: string, userId: string): Promise<string> {
	const client = new pg.Client({ connectionString: url });
	await client.connect();
	try {
		const { rows } = await client.query<{ b: string }>(
			"SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1",
			[userId],
		);
		return rows[0]?.b ?? "";
	} finally {
		await client.end();
	}
}

async function waitUntil(probe: () => Promise<boolean>, timeoutMs: number, what: string) {
	const deadline = Date.now() + timeoutMs;
	while (!(await probe())) {
		if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
		await sleep(500);
	}
}

describe.skipIf(!haveServer)("local stack under faults", () => {
	let pgServer: ThrowawayPostgres;
	let proxy: ResetProxy;
	let stack: LocalStack;

	beforeAll(async () => {
		pgServer = await startThrowawayPostgres();
		proxy = await startResetProxy(pgServer.port);
		stack = await startLocalStack({
			edgePort: 0,
			neonPort: 0,
			chainPort: 0,
			chainVerification: "sender",
			// Through the proxy, so its connections can be reset.
			databaseUrl: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
		});
		neonConfig.fetchEndpoint = stack.neonEndpoint;
	});

	afterAll(async () => {
		await stack?.stop();
		await proxy?.close();
		pgServer?.remove();
	});

	it("survives the database killed and its connections reset under load; every 202 is credited after", async () => {
		const userId = await registerPlayer(stack.baseUrl, "faults_player");
		const load = startWebhookLoad(() => stack.baseUrl, stack.webhookSecret, userId, { senders: 6 });
		await waitUntil(async () => load.acceptedSoFar >= 100, 30_000, "100 accepted webhooks");
		pgServer.crash();
		// Intake does not need the database: webhooks are still accepted meanwhile.
		const atCrash = load.acceptedSoFar;
		await sleep(3_000);
		pgServer.start();
		for (let i = 0; i < 6; i++) {
			proxy.resetAll();
			await sleep(300);
		}
		await sleep(1_000);
		const result = await load.stop();
		expect(result.accepted.length).toBeGreaterThan(atCrash);
		// Every answer a sender saw is 202: nothing refused, nothing unanswered.
		expect(Object.keys(result.statuses)).toEqual(["202"]);

		const url = pgServer.url;
		await waitUntil(
			async () => (await uncredited(url, result.accepted)).length === 0,
			90_000,
			`all ${result.accepted.length} accepted deposits credited`,
		);
		const expected = (result.accepted.length * Number(DEPOSIT_AMOUNT)).toFixed(8);
		expect(await walletBalance(url, userId)).toBe(expected);
		// Still whole: nothing died, and it still settles.
		expect(await Promise.race([stack.failed, sleep(100).then(() => "alive")])).toBe("alive");
		const sql = neon(stack.databaseUrl);
		const [row] = (await sql.query("SELECT count(*)::int AS n FROM deposits WHERE user_id = $1", [
			userId,
		])) as {
			n: number;
		}[];
		expect(row?.n).toBe(result.accepted.length);
	}, 180_000);

	it("refuses a second start on the same ports clearly, before anything starts", async () => {
		const edgePort = new URL(stack.baseUrl).port;
		const neonPort = new URL(stack.neonEndpoint).port;
		const second = spawn(process.execPath, ["--import", "tsx", "ops/start.ts"], {
			env: {
				...process.env,
				EDGE_PORT: edgePort,
				NEON_PORT: neonPort,
				ANVIL_PORT: "0",
				DATABASE_URL: pgServer.url,
			},
			stdio: ["ignore", "pipe", "pipe"],
		});
		let output = "";
		second.stdout.on("data", (c: Buffer) => (output += c));
		second.stderr.on("data", (c: Buffer) => (output += c));
		const code = await new Promise<number | null>((resolve) => second.once("exit", resolve));
		expect(code).toBe(1);
		expect(output).toContain(`${edgePort} (the edge Worker, EDGE_PORT)`);
		expect(output).toContain("already in use on 127.0.0.1, so nothing was started");
		expect(output).not.toContain("applying migrations");
		expect(output).not.toContain("is running");
		// The first stack is untouched and still its own.
		const health = (await (await fetch(`${stack.baseUrl}/api/v1/health`)).json()) as { start_id?: string };
		expect(health.start_id).toBe(stack.startId);
	}, 60_000);
});

/** `npm start` in a process group of its own, as a terminal runs it (Ctrl-C reaches the group). */
function npmStart(env: Record<string, string>): {
	child: ChildProcess;
	output: () => string;
	exit: Promise<number | null>;
} {
	const child = spawn(process.execPath, ["--import", "tsx", "ops/start.ts"], {
		env: { ...process.env, CHAIN_VERIFICATION: "sender", ...env },
		stdio: ["ignore", "pipe", "pipe"],
		detached: true,
	});
	let output = "";
	child.stdout?.on("data", (c: Buffer) => (output += c));
	child.stderr?.on("data", (c: Buffer) => (output += c));
	const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
	return { child, output: () => output, exit };
}

async function freePorts(n: number): Promise<string[]> {
	const { createServer } = await import("node:net");
	const ports: string[] = [];
	for (let i = 0; i < n; i++) {
		ports.push(
			await new Promise<string>((resolve) => {
				const s = createServer().listen(0, "127.0.0.1", () => {
					const a = s.address();
					s.close(() => resolve(String(typeof a === "object" && a ? a.port : 0)));
				});
			}),
		);
	}
	return ports;
}

/** Process ids under `pid` whose command line contains `needle` (Linux /proc). */
function descendants(pid: number, needle: string): number[] {
	const children = new Map<number, number[]>();
	for (const entry of readdirSync("/proc")) {
		if (!/^\d+$/.test(entry)) continue;
		try {
			const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
			const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
			children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
		} catch {
			// Gone meanwhile.
		}
	}
	const found: number[] = [];
	const walk = (p: number) => {
		for (const c of children.get(p) ?? []) {
			try {
				if (readFileSync(`/proc/${c}/cmdline`, "utf8").includes(needle)) found.push(c);
			} catch {
				// Gone meanwhile.
			}
			walk(c);
		}
	};
	walk(pid);
	return found;
}

describe.skipIf(!haveServer)("npm start stopped", () => {
	let pgServer: ThrowawayPostgres;

	beforeAll(async () => {
		pgServer = await startThrowawayPostgres();
	});

	afterAll(() => {
		pgServer?.remove();
	});

	it("by Ctrl-C under load: intake answers 503 with Retry-After, and every 202 is credited before it exits", async () => {
		const [edge, neonPort, chain] = await freePorts(3);
		const start = npmStart({
			EDGE_PORT: edge!,
			NEON_PORT: neonPort!,
			ANVIL_PORT: chain!,
			DATABASE_URL: pgServer.url,
		});
		const baseUrl = `http://127.0.0.1:${edge}`;
		try {
			await waitUntil(async () => start.output().includes("CricAlgo Edge is running."), 120_000, "npm start");
			const userId = await registerPlayer(baseUrl, "ctrl_c_player");
			const load = startWebhookLoad(
				() => baseUrl,
				"whsec_Y3JpY2FsZ28tbG9jYWwtd2ViaG9vay1zZWNyZXQhIQ==",
				userId,
				{
					senders: 8,
				},
			);
			await waitUntil(async () => load.acceptedSoFar >= 300, 60_000, "300 accepted webhooks");
			process.kill(-start.child.pid!, "SIGINT");
			const code = await start.exit;
			const result = await load.stop();
			expect(code, start.output()).toBe(0);
			expect(start.output()).toContain("stopped; nothing accepted was lost");
			// Senders that kept sending while it drained were told to come back.
			expect(result.statuses[503] ?? 0).toBeGreaterThan(0);
			expect(new Set(result.retryAfter)).toEqual(new Set(["30"]));
			expect(result.accepted.length).toBeGreaterThanOrEqual(300);
			// After exit, read straight from Postgres: every 202 credited, once.
			expect(await uncredited(pgServer.url, result.accepted)).toEqual([]);
			expect(await walletBalance(pgServer.url, userId)).toBe(
				(result.accepted.length * Number(DEPOSIT_AMOUNT)).toFixed(8),
			);
		} finally {
			if (start.child.exitCode === null) process.kill(-start.child.pid!, "SIGKILL");
		}
	}, 240_000);

	it("when a part dies: the rest stops, saying what happened, with a non-zero exit", async () => {
		const [edge, neonPort, chain] = await freePorts(3);
		const start = npmStart({
			EDGE_PORT: edge!,
			NEON_PORT: neonPort!,
			ANVIL_PORT: chain!,
			DATABASE_URL: pgServer.url,
		});
		try {
			await waitUntil(async () => start.output().includes("CricAlgo Edge is running."), 120_000, "npm start");
			const [wrangler] = descendants(start.child.pid!, "wrangler.js");
			expect(wrangler).toBeDefined();
			process.kill(wrangler!, "SIGKILL");
			const code = await start.exit;
			expect(code).toBe(1);
			expect(start.output()).toContain(
				"wrangler dev (the Workers and the local queue) was killed by SIGKILL",
			);
			expect(start.output()).toContain("stopping the rest");
			// Nothing is left half alive: every port is free again.
			for (const port of [edge, neonPort, chain]) {
				const ok = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then(
					() => true,
					() => false,
				);
				expect(ok, `port ${port} still answers`).toBe(false);
			}
		} finally {
			if (start.child.exitCode === null) process.kill(-start.child.pid!, "SIGKILL");
		}
	}, 180_000);
});
