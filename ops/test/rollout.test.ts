/**
 * `ops rollout` and `ops rollback` end to end: the CLI runs as a user runs it, real wrangler
 * uploads and deploys, and the Cloudflare API they talk to is the local stand-in
 * (test/support/cloudflare-stand-in.ts), since Cloudflare's control plane cannot be reached from
 * here. Each test asserts the exact sequence of deployment calls and analytics queries, the
 * exit code, the deployment the stand-in ends up serving, and the journal.
 *
 * The sequences leave out wrangler's read-only lookups around an upload or a deploy (version
 * details, secrets, settings, queue ids, service metadata): they are wrangler's business and
 * change between its releases; every call that reads or moves traffic is in.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
	type CloudflareStandIn,
	type StandInCall,
	startCloudflareStandIn,
} from "../../test/support/cloudflare-stand-in";
import { runOps } from "./support/run-ops";

const EDGE = "cricalgo-edge-staging";
const API = "cricalgo-api-staging";
const CONSUMER = "cricalgo-queue-consumer-staging";
const STABLE = "00000000-0000-4000-8000-00000000abcd";

let cf: CloudflareStandIn;
const scratch = mkdtempSync(join(tmpdir(), "cricalgo-rollout-"));
let journal: string;

beforeAll(async () => {
	cf = await startCloudflareStandIn();
});
afterAll(async () => {
	await cf.close();
	rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => {
	cf.reset();
	cf.seedScript(EDGE, { versionId: STABLE, secrets: ["WEBHOOK_SECRETS", "DATABASE_URL", "JWT_SECRET"] });
	cf.seedScript(API, { versionId: STABLE, secrets: ["DATABASE_URL", "JWT_SECRET"] });
	cf.seedScript(CONSUMER, { versionId: STABLE, secrets: ["DATABASE_URL"] });
	journal = join(scratch, `journal-${Date.now()}.json`);
});

function ops(args: string[]) {
	return runOps(args, {
		CLOUDFLARE_API_BASE_URL: cf.baseUrl,
		CLOUDFLARE_API_TOKEN: cf.token,
		CLOUDFLARE_ACCOUNT_ID: cf.accountId,
		WRANGLER_LOG_PATH: join(scratch, "wrangler-logs"),
	});
}

const FAST = ["--bake", "0s", "--poll", "0s"];

/** The canary's id: the version uploaded during the test. */
function canaryId(): string {
	const upload = cf.calls.find((c) => c.method === "POST" && c.path.endsWith("/versions"));
	if (!upload) throw new Error("no version was uploaded");
	const ids = new Set(cf.deployments(EDGE).flatMap((d) => d.versions.map((v) => v.version_id)));
	for (const script of [API, CONSUMER])
		for (const d of cf.deployments(script)) for (const v of d.versions) ids.add(v.version_id);
	ids.delete(STABLE);
	return [...ids][0] ?? "(none)";
}

/** Calls that read or move traffic, with version ids replaced by "canary" / "stable". */
function sequence(calls: StandInCall[]): string[] {
	const canary = canaryId();
	const name = (id: string) => (id === STABLE ? "stable" : id === canary ? "canary" : id);
	return calls.flatMap((c) => {
		if (c.method === "POST" && c.path.endsWith("/versions")) return ["upload"];
		if (c.path.endsWith("/deployments") && c.method === "GET") return ["read deployment"];
		if (c.path.endsWith("/deployments") && c.method === "POST") {
			const { versions } = JSON.parse(c.body) as { versions: { version_id: string; percentage: number }[] };
			return [`deploy ${versions.map((v) => `${name(v.version_id)}@${v.percentage}%`).join(" ")}`];
		}
		if (c.path.endsWith("/analytics_engine/sql")) return ["query figures"];
		return [];
	});
}

/** Answers the gate's query with these figures for the canary and the stable version. */
function figures(
	canary: { requests: number; errors: number; p95: number; p99: number },
	stable = { requests: 5000, errors: 2, p95: 180, p99: 420 },
) {
	cf.scenario = [
		{
			api: "sql",
			contains: ["GROUP BY version", "blob3 IN ("],
			rowsFor: (query) => {
				const ids = /blob3 IN \(([^)]*)\)/
					.exec(query)![1]!
					.split(", ")
					.map((s) => s.replace(/'/g, ""));
				return ids.map((id) => {
					const f = id === STABLE ? stable : canary;
					return {
						version: id,
						requests: String(f.requests),
						errors: String(f.errors),
						p95_ms: f.p95,
						p99_ms: f.p99,
					};
				});
			},
		},
	];
}

function served(script = EDGE): string {
	const canary = canaryId();
	const d = cf.deployments(script)[0]!;
	return d.versions
		.map(
			(v) =>
				`${v.version_id === STABLE ? "stable" : v.version_id === canary ? "canary" : v.version_id}@${v.percentage}%`,
		)
		.join(" ");
}

const deployStep = (traffic: string) => ["read deployment", `deploy ${traffic}`, "read deployment"];

/** A healthy rollout's calls: upload, then each step deployed, read back and judged, up to 100 %. */
const PROMOTED = [
	"read deployment",
	"upload",
	...deployStep("canary@10% stable@90%"),
	"query figures",
	...deployStep("canary@25% stable@75%"),
	"query figures",
	...deployStep("canary@50% stable@50%"),
	"query figures",
	...deployStep("canary@100%"),
];

describe("ops rollout", () => {
	it("promotes a healthy canary step by step to 100 %", async () => {
		figures({ requests: 600, errors: 0, p95: 190, p99: 430 });
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(0);
		expect(sequence(cf.calls)).toEqual(PROMOTED);
		expect(served()).toBe("canary@100%");
		expect(run.stdout).toContain("[1/4] routing 10 % of traffic");
		expect(run.stdout).toContain("✓ gate held at 50 %");
		expect(run.stdout).toContain(`serves 100 % of ${EDGE}`);
		const state = JSON.parse(readFileSync(journal, "utf8"));
		expect(state.outcome).toBe("promoted");
		expect(state.lastConfirmed.traffic).toEqual([{ versionId: canaryId(), percentage: 100 }]);
	});

	it("rolls a canary with a high error rate back at 10 % and exits 1", async () => {
		figures({ requests: 600, errors: 9, p95: 190, p99: 430 });
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(1);
		expect(sequence(cf.calls)).toEqual([
			"read deployment",
			"upload",
			...deployStep("canary@10% stable@90%"),
			"query figures",
			...deployStep("stable@100%"),
		]);
		expect(served()).toBe("stable@100%");
		expect(run.stdout).toMatch(/FAIL error rate: canary 1\.50 % \(9\/600\), limit 0\.50 %/);
		expect(run.stdout).toContain("✓ rolled back: 00000000-0000-4000-8000-00000000abcd@100%");
		expect(JSON.parse(readFileSync(journal, "utf8")).outcome).toBe("rolled_back");
	});

	it("rolls back a canary slower than stable beyond the margin, though under the thresholds", async () => {
		figures({ requests: 600, errors: 0, p95: 900, p99: 1500 });
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(1);
		expect(run.stdout).toContain("FAIL p95 vs stable: canary 900 ms, stable 180 ms × 1.2 + 25 ms = 241 ms");
		expect(served()).toBe("stable@100%");
	});

	it("with too little traffic, re-queries, then puts stable back and exits 3", async () => {
		figures({ requests: 20, errors: 0, p95: 150, p99: 300 });
		const run = await ops([
			"rollout",
			"--worker",
			"edge",
			"--env",
			"staging",
			...FAST,
			"--max-polls",
			"2",
			"--journal",
			journal,
		]);

		expect(run.code, run.output).toBe(3);
		expect(sequence(cf.calls)).toEqual([
			"read deployment",
			"upload",
			...deployStep("canary@10% stable@90%"),
			"query figures",
			"query figures",
			"query figures",
			...deployStep("stable@100%"),
		]);
		expect(run.stdout).toContain("canary served 20 requests; at least 100 each are needed to judge");
		expect(run.stdout).toContain("still too little traffic at 10 % after 2 re-queries");
		expect(served()).toBe("stable@100%");
	});

	it("when the API fails midway, reads the state back, restores stable and exits 4", async () => {
		figures({ requests: 600, errors: 0, p95: 190, p99: 430 });
		// The second deploy (25 %) fails once; the API answers again for the rollback.
		cf.failures = [{ method: "POST", path: "/deployments", after: 1, times: 1, status: 500 }];
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(4);
		expect(sequence(cf.calls)).toEqual([
			"read deployment",
			"upload",
			...deployStep("canary@10% stable@90%"),
			"query figures",
			"read deployment",
			"deploy canary@25% stable@75%",
			"read deployment",
			...deployStep("stable@100%"),
		]);
		expect(run.stdout).toContain(`the Worker serves, read back now: ${canaryId()}@10% ${STABLE}@90%`);
		expect(run.stdout).toContain("✓ rolled back");
		expect(served()).toBe("stable@100%");
		const state = JSON.parse(readFileSync(journal, "utf8"));
		expect(state.outcome).toBe("failed");
		expect(state.events.map((e: { type: string }) => e.type)).toEqual([
			"uploaded",
			"deployed",
			"judged",
			"failed",
			"rolled_back",
		]);
	});

	it("when the API stays down, prints the last confirmed split and the recovery commands", async () => {
		figures({ requests: 600, errors: 0, p95: 190, p99: 430 });
		cf.failures = [
			{ method: "POST", path: "/deployments", after: 1, status: 503 },
			{ method: "GET", path: "/deployments", after: 3, status: 503 },
		];
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(4);
		// The split really is still in place, and the output says so.
		expect(served()).toBe("canary@10% stable@90%");
		expect(run.stdout).toContain(`last confirmed state: ${canaryId()}@10% ${STABLE}@90%`);
		expect(run.stdout).toContain(`npm run ops -- rollback --worker edge --env staging --to ${STABLE}`);
		expect(run.stdout).toContain(`npx wrangler versions deploy ${STABLE}@100% --yes`);
		const state = JSON.parse(readFileSync(journal, "utf8"));
		expect(state.outcome).toBe("failed");
		expect(state.lastConfirmed.traffic).toEqual([
			{ versionId: canaryId(), percentage: 10 },
			{ versionId: STABLE, percentage: 90 },
		]);
		expect(state.recovery).toContain(`${STABLE}@100%`);

		// Once the API answers, the printed rollback command restores stable.
		cf.failures = [];
		const recover = await ops(["rollback", "--worker", "edge", "--env", "staging"]);
		expect(recover.code, recover.output).toBe(0);
		expect(served()).toBe("stable@100%");
		// This case starts wrangler again and again (upload, deploys, read-backs, rollback, recovery);
		// each start takes seconds on a loaded machine, so it gets the time they need.
	}, 180_000);

	it("Ctrl-C during a bake says which split is left and how to put stable back (exit 130)", async () => {
		const run = await runOps(
			["rollout", "--worker", "edge", "--env", "staging", "--bake", "10m", "--journal", journal],
			{
				CLOUDFLARE_API_BASE_URL: cf.baseUrl,
				CLOUDFLARE_API_TOKEN: cf.token,
				CLOUDFLARE_ACCOUNT_ID: cf.accountId,
				WRANGLER_LOG_PATH: join(scratch, "wrangler-logs"),
			},
			(output) => output.includes("baking: 10m left"),
		);

		expect(run.code, run.output).toBe(130);
		expect(served()).toBe("canary@10% stable@90%");
		expect(run.stderr).toContain(`interrupted with traffic split: ${canaryId()}@10% ${STABLE}@90%`);
		expect(run.stderr).toContain(`npm run ops -- rollback --worker edge --env staging --to ${STABLE}`);
		const state = JSON.parse(readFileSync(journal, "utf8"));
		expect(state).toMatchObject({ outcome: "failed", recovery: expect.stringContaining(STABLE) });
	});

	it("--dry-run reads the current deployment, prints the plan and changes nothing", async () => {
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", "--bake", "10m", "--dry-run"]);

		expect(run.code, run.output).toBe(0);
		expect(cf.calls.map((c) => `${c.method} ${c.path}`)).toEqual([
			`GET /accounts/${cf.accountId}/workers/scripts/${EDGE}/deployments`,
		]);
		expect(run.stdout).toContain(`versions deploy "<new version>@10%" ${STABLE}@90% --yes`);
		expect(run.stdout).toContain("bake 10m, then judge");
		expect(run.stdout).toContain("FROM cricalgo_edge_staging");
	});

	it("refuses to start from a split deployment and changes nothing (exit 2)", async () => {
		const other = cf.addVersion(EDGE);
		cf.deploy(EDGE, [
			{ version_id: other, percentage: 10 },
			{ version_id: STABLE, percentage: 90 },
		]);
		const run = await ops(["rollout", "--worker", "edge", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(2);
		expect(run.stdout).toContain(`is split between versions (${other}@10% ${STABLE}@90%)`);
		expect(run.stdout).toContain("npm run ops -- rollback --worker edge --env staging");
		expect(cf.calls.filter((c) => c.method !== "GET")).toEqual([]);
	});

	it("rolls the API Worker out on its own requests, leaving the edge and the consumer as they were", async () => {
		figures({ requests: 600, errors: 0, p95: 190, p99: 430 });
		const run = await ops(["rollout", "--worker", "api", "--env", "staging", ...FAST, "--journal", journal]);

		expect(run.code, run.output).toBe(0);
		expect(sequence(cf.calls)).toEqual(PROMOTED);
		// Every call that uploads or moves traffic went to the API Worker's script.
		const moves = cf.calls.filter((c) => c.method === "POST" && /\/(versions|deployments)$/.test(c.path));
		expect(moves.length).toBe(5);
		for (const call of moves) expect(call.path).toContain(`/workers/scripts/${API}/`);
		// The gate read request figures (the edge's and the API's kind), not settled messages.
		const queries = cf.calls.filter((c) => c.path.endsWith("/analytics_engine/sql")).map((c) => c.body);
		for (const query of queries) expect(query).toContain("blob1 = 'request'");
		expect(served(API)).toBe("canary@100%");
		expect(served(EDGE)).toBe("stable@100%");
		expect(served(CONSUMER)).toBe("stable@100%");
		expect(run.stdout).toContain(`serves 100 % of ${API}`);
		expect(JSON.parse(readFileSync(journal, "utf8")).outcome).toBe("promoted");
	});

	it("gates the consumer on its settle failures", async () => {
		cf.scenario = [
			{
				api: "sql",
				contains: [
					"blob1 = 'settle'",
					"blob4 IN ('retry', 'chain_unavailable', 'dead_letter')",
					"GROUP BY version",
				],
				rowsFor: (query) =>
					[...query.matchAll(/'([0-9a-f-]{36})'/g)].map(([, id = ""]) =>
						id === STABLE
							? { version: id, requests: "3000", errors: "0", p95_ms: 40, p99_ms: 90 }
							: { version: id, requests: "400", errors: "12", p95_ms: 45, p99_ms: 95 },
					),
			},
		];
		const run = await ops([
			"rollout",
			"--worker",
			"consumer",
			"--env",
			"staging",
			...FAST,
			"--steps",
			"50,100",
			"--journal",
			journal,
		]);

		expect(run.code, run.output).toBe(1);
		expect(sequence(cf.calls)).toEqual([
			"read deployment",
			"upload",
			...deployStep("canary@50% stable@50%"),
			"query figures",
			...deployStep("stable@100%"),
		]);
		expect(served(CONSUMER)).toBe("stable@100%");
	});
});

describe("ops rollback", () => {
	it("puts the version that served 100 % before the current one back at once", async () => {
		const released = cf.addVersion(EDGE);
		for (const p of [10, 25, 50]) {
			cf.deploy(EDGE, [
				{ version_id: released, percentage: p },
				{ version_id: STABLE, percentage: 100 - p },
			]);
		}
		cf.deploy(EDGE, [{ version_id: released, percentage: 100 }]);

		const run = await ops(["rollback", "--worker", "edge", "--env", "staging"]);
		expect(run.code, run.output).toBe(0);
		expect(cf.calls.filter((c) => c.path.endsWith("/deployments")).map((c) => c.method)).toEqual([
			"GET",
			"GET",
			"POST",
			"GET",
		]);
		expect(run.stdout).toContain(`previous version: ${STABLE}`);
		expect(cf.deployments(EDGE)[0]!.versions).toEqual([{ version_id: STABLE, percentage: 100 }]);
	});

	it("after a rollout stopped midway, goes back to the stable half of the split", async () => {
		const stopped = cf.addVersion(EDGE);
		cf.deploy(EDGE, [
			{ version_id: stopped, percentage: 25 },
			{ version_id: STABLE, percentage: 75 },
		]);
		const run = await ops(["rollback", "--worker", "edge", "--env", "staging"]);
		expect(run.code, run.output).toBe(0);
		expect(cf.deployments(EDGE)[0]!.versions).toEqual([{ version_id: STABLE, percentage: 100 }]);
	});

	it("--dry-run names the version and deploys nothing", async () => {
		cf.deploy(EDGE, [{ version_id: cf.addVersion(EDGE), percentage: 100 }]);
		const run = await ops(["rollback", "--worker", "edge", "--env", "staging", "--dry-run"]);
		expect(run.code, run.output).toBe(0);
		expect(run.stdout).toContain(`would run: npx wrangler versions deploy ${STABLE}@100% --yes`);
		expect(cf.calls.filter((c) => c.method !== "GET")).toEqual([]);
	});
});
