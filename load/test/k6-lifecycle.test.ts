/**
 * The k6 script, bundled exactly as `npm run k6:bundle` bundles it, run through k6's lifecycle
 * by the k6 stand-in (support/k6-stand-in.ts; k6 itself is in no registry CI can reach), which
 * refuses every k6 API outside the contexts where k6 allows it, against a real stack (wrangler
 * dev with the three Workers and the local queue, the Neon driver, Postgres). It checks that:
 *
 * - a healthy run uses k6's APIs only where k6 allows them, every threshold has samples and
 *   every one but the latency thresholds passes (latency is the machine's, not the test's), and
 *   the settlement verdict is the database's: the credits its players hold are exactly the
 *   plan's deposits, once each;
 * - a run whose deposits are never credited (sent below the chain's confirmation threshold)
 *   fails the verdict and names the deposits' state;
 * - a run whose check never ran fails instead of passing on thresholds without samples;
 * - k6's --vus/--duration flags, which replace the script's scenarios, are refused in setup;
 * - the stand-in itself refuses what k6 refuses (or the first point would prove nothing).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalDatabase, openLocalDatabase } from "../../ops/local/database";
import { type LocalStack, startLocalStack } from "../../ops/local/stack";
import { k6BundleOptions } from "../bundle-k6";
import { DepositPlan } from "../k6/lib/deposit-plan";
import { connectLedger, type LedgerConnection } from "../local/ledger";
import { runK6StandIn, runK6StandInThread, type StandInRun } from "./support/k6-stand-in";

let code: string;
let stack: LocalStack;
let ledger: LedgerConnection;
let fresh: LocalDatabase | undefined;
const scratch = mkdtempSync(join(tmpdir(), "cricalgo-k6-"));

beforeAll(async () => {
	const bundle = await build({ ...k6BundleOptions, format: "cjs", write: false });
	code = bundle.outputFiles[0]?.text ?? "";
	let databaseUrl: string | undefined;
	if (process.env.TEST_DATABASE_URL) {
		const name = `cricalgo_k6_${Date.now().toString(36)}`;
		fresh = await openLocalDatabase({ url: process.env.TEST_DATABASE_URL, databases: [name], create: true });
		databaseUrl = fresh.connectionString(name);
	}
	stack = await startLocalStack({
		edgePort: 0,
		neonPort: 0,
		chainPort: 0,
		// The script's deposits are synthetic: no transfer behind them to verify on chain.
		chainVerification: "sender",
		databaseUrl,
		dataDir: join(scratch, "pglite"),
		persistTo: join(scratch, "wrangler-state"),
	});
	ledger = await connectLedger(stack.databaseUrl, stack.neonEndpoint);
}, 180_000);

afterAll(async () => {
	await ledger?.close();
	await stack?.stop();
	await fresh?.dropCreated();
	rmSync(scratch, { recursive: true, force: true });
});

const runId = (what: string) => `${what}${Date.now().toString(36)}`;
const env = (extra: Record<string, string>) => ({
	BASE_URL: stack.baseUrl,
	WEBHOOK_SECRET: stack.webhookSecret,
	SCENARIO: "smoke",
	LOAD_USERS: "3",
	...extra,
});
const last = (run: StandInRun, metric: string) =>
	run.samples.filter((s) => s.metric === metric).at(-1)?.value;
const failed = (run: StandInRun) =>
	run.thresholds.filter((t) => !t.ok).map((t) => `${t.metric}: ${t.expression}`);
const LATENCY = /^(http_req_duration|webhook_ack_ms|health_ms|settle_drain_ms)\b/;
const logText = (run: StandInRun) => run.logs.map((l) => `${l.level} ${l.text}`).join("\n");

/** The run's players and their deposit credits, from the database. */
async function creditsOf(run: string) {
	const players = await ledger.query(
		`SELECT u.id::text AS id FROM users u WHERE u.username LIKE $1
		ORDER BY substring(u.username FROM '_([0-9]+)$')::int`,
		[`load\\_${run}\\_%`],
	);
	const rows = await ledger.query(
		`SELECT t.related_id::text AS tx_id, t.amount::text AS amount FROM transactions t
		JOIN users u ON u.id = t.user_id WHERE u.username LIKE $1 AND t.tx_type = 'deposit'`,
		[`load\\_${run}\\_%`],
	);
	const [wallets] = await ledger.query(
		`SELECT COALESCE(sum(w.deposit_balance), 0)::text AS total FROM wallets w
		JOIN users u ON u.id = w.user_id WHERE u.username LIKE $1`,
		[`load\\_${run}\\_%`],
	);
	return { playerIds: players.map((p) => String(p.id)), rows, walletTotal: String(wallets?.total) };
}

describe("the k6 script under k6's lifecycle, against a real stack", () => {
	it("healthy: k6 APIs only where allowed, every threshold sampled, the verdict the database's", async () => {
		const id = runId("ok");
		const iterations = 40;
		const run = await runK6StandInThread({ code, env: env({ RUN_ID: id }), loadIterations: iterations });
		expect(run.failure, logText(run)).toBeNull();
		expect(run.violations).toEqual([]);
		expect(run.iterationErrors).toEqual([]);
		// Latency thresholds are the machine's business (a busy test machine may miss them), not
		// this test's: every other threshold must pass, and every threshold must have samples.
		expect(
			failed(run).filter((t) => !LATENCY.test(t)),
			logText(run),
		).toEqual([]);
		expect(run.thresholds.filter((t) => t.samples === 0)).toEqual([]);
		expect(last(run, "settlement_verdict")).toBe(1);
		expect(logText(run)).toMatch(/settlement PASS/);
		expect(run.summary?.stdout).toMatch(/settlement verdict +PASS/);

		// The database holds exactly the plan's deposits, each credited once, and the wallets hold them.
		const db = await creditsOf(id);
		const plan = new DepositPlan({
			runId: id,
			chain: "bep20",
			userIds: db.playerIds,
			duplicateShare: 0.1,
			stagedShare: 0.2,
			requiredConfirmations: 12,
		});
		const { depositTxId } = await import("../../schema/tx-id");
		const planned = await Promise.all(
			[...Array(iterations).keys()]
				.filter((i) => plan.createsDeposit(i))
				.map(async (i) => ({ txId: await depositTxId("bep20", plan.txHash(i), 0), amount: plan.amount(i) })),
		);
		expect(last(run, "deposits_checked")).toBe(planned.length);
		expect(db.rows.map((r) => r.tx_id).sort()).toEqual(planned.map((p) => p.txId).sort());
		const cents = (a: string) => Math.round(Number(a) * 100);
		const total = planned.reduce((sum, p) => sum + cents(p.amount), 0);
		expect(db.rows.reduce((sum, r) => sum + cents(String(r.amount)), 0)).toBe(total);
		expect(cents(db.walletTotal)).toBe(total);
	});

	it("deposits never credited (sent below the chain's threshold): the verdict fails and says why", async () => {
		const id = runId("low");
		const run = await runK6StandInThread({
			code,
			env: env({ RUN_ID: id, REQUIRED_CONFIRMATIONS: "6", SETTLE_TIMEOUT: "4" }),
			loadIterations: 8,
		});
		expect(run.violations).toEqual([]);
		expect(run.failure).toBeNull();
		expect(last(run, "settlement_verdict")).toBe(0);
		expect(run.samples.filter((s) => s.metric === "deposits_settled").every((s) => s.value === 0)).toBe(true);
		expect(failed(run)).toEqual(
			expect.arrayContaining(["settlement_verdict: value==1", "deposits_settled: rate==1"]),
		);
		expect(run.exitCode).toBe(99);
		expect(logText(run)).toMatch(/settlement FAIL: 0 of \d+ deposits credited.*pending, 6\/12 confirmations/);
		expect(run.summary?.stdout).toMatch(/settlement verdict +FAIL/);
		expect((await creditsOf(id)).rows).toEqual([]);
	});

	it("a check that never ran fails the run instead of passing on thresholds without samples", async () => {
		const run = await runK6StandInThread({
			code,
			env: env({ RUN_ID: runId("cut") }),
			loadIterations: 3,
			skipScenarios: ["settlement"],
		});
		expect(run.violations).toEqual([]);
		expect(failed(run)).toEqual(
			expect.arrayContaining(["settlement_verdict: value==1", "deposits_checked: count>0"]),
		);
		expect(run.exitCode).toBe(99);
		expect(run.summary?.stdout).toMatch(/settlement verdict +FAIL: the settlement check did not finish/);
	});

	it("k6's --vus/--duration flags, which drop the settlement check, are refused before anything is sent", () => {
		const run = runK6StandIn({
			code,
			env: env({}),
			loadIterations: 3,
			cliShortcut: { vus: 20, duration: "1m" },
		});
		expect(run.failure).toMatch(/--vus.*-e VUS=20 -e DURATION=1m/);
		expect(run.exitCode).toBe(107);
		expect(run.samples.filter((s) => s.tags.endpoint === "webhook")).toEqual([]);
	});
});

describe("the k6 stand-in refuses what k6 refuses", () => {
	const script = (body: string) => `
		const exec = require("k6/execution").default;
		const http = require("k6/http").default;
		const { Counter } = require("k6/metrics");
		${body}
		module.exports.options = { scenarios: { load: { executor: "per-vu-iterations", vus: 1, iterations: 1 } } };`;
	const run = (body: string) => runK6StandIn({ code: script(body), env: {}, loadIterations: 0 });

	it("exec.instance in teardown(), as the script once read it (k6 exits 107)", () => {
		const r = run(
			`module.exports.default = () => {}; module.exports.teardown = () => exec.instance.iterationsCompleted;`,
		);
		expect(r.violations).toEqual([expect.stringMatching(/getting instance information .* teardown\(\)/)]);
		expect(r.exitCode).toBe(107);
	});

	it("HTTP requests in the init code, exec.scenario in setup(), metrics declared in VU code", () => {
		expect(() => run(`http.get("http://127.0.0.1:9/");`)).toThrow(/Making http requests in the init context/);
		expect(
			run(`module.exports.setup = () => exec.scenario.name; module.exports.default = () => {};`).failure,
		).toMatch(/getting scenario information outside of the VU context/);
		const r = run(`module.exports.default = () => new Counter("late");`);
		expect(r.iterationErrors).toEqual([
			expect.stringMatching(/metrics must be declared in the init context/),
		]);
	});
});
