/**
 * `ops alerts` as a user runs it, against the Cloudflare stand-in's Analytics Engine SQL and
 * GraphQL Analytics APIs: the table, the exit codes, the Prometheus text export, and the
 * queries it sends (dataset, scripts and queue of the chosen environment).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { RULES } from "../../shared/alerts/rules";
import { degrade, failing, healthy } from "../../test/support/alert-scenario";
import { type CloudflareStandIn, startCloudflareStandIn } from "../../test/support/cloudflare-stand-in";
import { runOps } from "./support/run-ops";

const T = Date.UTC(2026, 10, 21, 12, 0, 0);
const MINUTE = 60_000;
const AT = new Date(T + 25_000).toISOString(); // evaluated at the start of its minute, T

let cf: CloudflareStandIn;
beforeAll(async () => {
	cf = await startCloudflareStandIn();
});
afterAll(() => cf.close());
beforeEach(() => cf.reset());

function alerts(...args: string[]) {
	return runOps(["alerts", "--env", "staging", "--at", AT, ...args], {
		CLOUDFLARE_API_BASE_URL: cf.baseUrl,
		CLOUDFLARE_API_TOKEN: cf.token,
		CLOUDFLARE_ACCOUNT_ID: cf.accountId,
	});
}

/** The table row of a rule, split into its columns. */
function row(stdout: string, name: string): string[] {
	const line = stdout.split("\n").find((l) => l.startsWith(`${name} `));
	return line ? line.trim().split(/\s{2,}/) : [];
}

describe("ops alerts", () => {
	it("prints every rule and exits 0 when nothing fires", async () => {
		cf.scenario = healthy();
		const run = await alerts();

		expect(run.code, run.output).toBe(0);
		const lines = run.stdout.trim().split("\n");
		expect(lines[0]).toMatch(/^RULE\s+SEVERITY\s+STATE\s+VALUE\s+THRESHOLD\s+FOR\s+HELD$/);
		expect(lines).toHaveLength(1 + RULES.length);
		expect(row(run.stdout, "HTTPHighP95")).toEqual([
			"HTTPHighP95",
			"warning",
			"OK",
			"150 ms",
			"> 2.00 s",
			"5m",
		]);
		expect(row(run.stdout, "DatabaseSaturation")).toEqual([
			"DatabaseSaturation",
			"warning",
			"OK",
			"10.0 %",
			"> 90.0 %",
			"3m",
		]);
		expect(row(run.stdout, "QueueDepthHigh")).toEqual([
			"QueueDepthHigh",
			"warning",
			"OK",
			"3 msgs",
			"> 50 msgs",
			"5m",
		]);
		expect(run.stderr).toContain("nothing fires");

		// One query per signal, on the staging dataset, scripts and queue.
		const sql = cf.calls.filter((c) => c.path.endsWith("/analytics_engine/sql"));
		expect(sql).toHaveLength(6);
		expect(sql.every((c) => c.body.includes("FROM cricalgo_edge_staging"))).toBe(true);
		const graphql = cf.calls.filter((c) => c.path === "/graphql").map((c) => JSON.parse(c.body).variables);
		expect(graphql).toContainEqual(
			expect.objectContaining({ edge: "cricalgo-edge-staging", consumer: "cricalgo-queue-consumer-staging" }),
		);
		expect(graphql).toContainEqual(expect.objectContaining({ queueId: "queue-id-deposits-staging" }));
	});

	it("exits 1 and marks the rules whose condition held for their whole `for` window", async () => {
		cf.scenario = [
			degrade("http", { errors_5xx: 240 }, (T - 2 * MINUTE) / 1000),
			degrade("invocations", { exceeded: 3 }, (T - 5 * MINUTE) / 1000),
			...healthy(),
		];
		const run = await alerts();

		expect(run.code, run.output).toBe(1);
		expect(row(run.stdout, "HighErrorRate")).toEqual([
			"HighErrorRate",
			"critical",
			"FIRING",
			"2.0 %",
			"> 0.500 %",
			"2m",
			"2m",
		]);
		expect(row(run.stdout, "ModerateErrorRate")).toEqual([
			"ModerateErrorRate",
			"warning",
			"PENDING",
			"2.0 %",
			"> 0.100 %",
			"5m",
			"2m",
		]);
		expect(row(run.stdout, "WorkerExceededResources")[2]).toBe("FIRING");
		expect(run.stderr).toContain("2 rule(s) firing: HighErrorRate, WorkerExceededResources");
	});

	it("exports current values in Prometheus text format", async () => {
		cf.scenario = [degrade("http", { errors_5xx: 240 }, (T - 2 * MINUTE) / 1000), ...healthy()];
		const run = await alerts("--format", "prometheus");

		expect(run.code, run.output).toBe(1);
		const text = run.stdout;
		expect(text).toContain("# TYPE http_request_duration_seconds gauge");
		expect(text).toContain('http_request_duration_seconds{environment="staging",quantile="0.95"} 0.15');
		expect(text).toContain('http_requests_5xx_ratio{environment="staging"} 0.02');
		expect(text).toContain('queue_backlog_messages{environment="staging",queue="deposits-staging"} 3');
		expect(text).toContain(
			'ALERTS{alertname="HighErrorRate",alertstate="firing",severity="critical",environment="staging"} 1',
		);
		expect(text).toContain(
			'ALERTS{alertname="ModerateErrorRate",alertstate="pending",severity="warning",environment="staging"} 1',
		);
		// The error ratio is one gauge, however many rules read it.
		expect(text.match(/^http_requests_5xx_ratio/gm)).toHaveLength(1);
		// Every sample line parses as `name{labels} value`.
		for (const line of text
			.trim()
			.split("\n")
			.filter((l) => !l.startsWith("#"))) {
			expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$/);
		}
	});

	it("exits 3 and names the failed rules when the analytics API fails", async () => {
		cf.scenario = [failing("settle", 502), ...healthy()];
		const run = await alerts("--format", "json");

		expect(run.code, run.output).toBe(3);
		const result = JSON.parse(run.stdout);
		const states = Object.fromEntries(
			result.rules.map((r: { name: string; state: string }) => [r.name, r.state]),
		);
		expect(states).toMatchObject({
			DepositTaskSlow: "error",
			DepositTaskFailed: "error",
			HighErrorRate: "ok",
		});
		expect(run.stderr).toContain(
			"could not evaluate DepositTaskSlow: Analytics Engine SQL query failed: HTTP 502",
		);
	});

	it("refuses to run without credentials, saying which variable is missing (exit 2)", async () => {
		const run = await runOps(["alerts", "--env", "staging"], {
			CLOUDFLARE_API_TOKEN: "",
			CLOUDFLARE_ACCOUNT_ID: cf.accountId,
		});
		expect(run.code).toBe(2);
		expect(run.stderr).toContain("CLOUDFLARE_API_TOKEN not set");
		expect(cf.calls).toEqual([]);
	});
});
