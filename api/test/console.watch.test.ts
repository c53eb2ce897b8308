/**
 * The console's watch page against the Cloudflare stand-in (ops/test/support/): canary beside
 * stable for both Workers, the queues, every alert rule's state, refused webhooks by source and
 * reason; admins only; missing credentials and a failing API answered on the page, not as a 500.
 */
import { inject } from "vitest";
import "../../test/support/cloudflare-stand-in-context";
import { beforeEach, describe, expect, it } from "vitest";
import { onlyVersion, watchScenario } from "../../test/support/alert-scenario";
import { createAdmin, userWithToken } from "./support/accounts";
import { ConsoleBrowser, signedIn } from "./support/console";

const cf = inject("cloudflareStandIn");
const STABLE = "5ab1e000-0000-4000-8000-000000000001";
const CANARY = "ca4a2100-0000-4000-8000-000000000002";
const CONSUMER = "c0450000-0000-4000-8000-000000000003";

async function standIn(path: string, body?: unknown) {
	const res = await fetch(`${cf.origin}/__stand-in/${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json() as Promise<{ calls: { method: string; path: string; body: string }[] }>;
}

beforeEach(async () => {
	await standIn("reset", {});
});

async function deployed() {
	await standIn("deployment", {
		script: "cricalgo-edge",
		versions: [
			{ version_id: CANARY, percentage: 10 },
			{ version_id: STABLE, percentage: 90 },
		],
	});
	await standIn("deployment", {
		script: "cricalgo-queue-consumer",
		versions: [{ version_id: CONSUMER, percentage: 100 }],
	});
}

/** The text of the table row whose header cell starts with `name`, cells separated by " | ". */
function row(html: string, name: string): string {
	const tr = [...html.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => m[1]!).find((r) => r.includes(`>${name}`));
	return (tr ?? "")
		.split(/<\/t[hd]>/)
		.map((cell) => cell.replace(/<[^>]+>/g, "").trim())
		.filter(Boolean)
		.join(" | ");
}

describe("the watch page", () => {
	it("shows canary against stable, the queues, each rule's state and refusals by source and reason", async () => {
		await deployed();
		await standIn("scenario", {
			scenario: watchScenario({ stable: STABLE, canary: CANARY, consumer: CONSUMER }),
		});
		const { browser } = await signedIn();

		const res = await browser.request("/console/watch");
		expect(res.status).toBe(200);
		const html = await res.text();

		expect(row(html, STABLE)).toBe(
			`${STABLE} | stable | 90 % | 9000 | 0.100 % | 140 ms | 380 ms | 7000 | 95 ms`,
		);
		expect(row(html, CANARY)).toBe(
			`${CANARY} | canary | 10 % | 1000 | 2.0 % | 2.60 s | 4.10 s | 800 | 1.25 s`,
		);
		expect(row(html, CONSUMER)).toBe(`${CONSUMER} | stable | 100 % | 7800 | 0.000/s | 1.70 s | 0`);
		expect(html).toMatch(/Backlog of deposits<\/dt><dd>3 msgs/);
		// The rollout gate judges the canary from its own query, as `ops rollout` would now.
		expect(html).toContain("Rollout gate on the canary: roll back.");
		const text = html.replace(/<[^>]+>/g, "");
		expect(text).toContain("fails error rate: canary 2.00 % (20/1000), limit 0.50 %");
		expect(text).toContain("fails p95: canary 2600 ms, limit 2000 ms");
		expect(text).toContain("holds p99: canary 4100 ms, limit 5000 ms");
		expect(html).toContain("One version serves all traffic: no canary to judge.");

		// The refusal spike of one source fires; its runbook is on the page.
		expect(row(html, "WebhookRefusalSpike")).toMatch(
			/^WebhookRefusalSpike \| critical \| firing \| 37 \| 20 \| 2 \/ 2 min/,
		);
		expect(html).toContain("Runbook:");
		expect(row(html, "HTTPHighP95")).toMatch(/^HTTPHighP95 \| warning \| ok \| 150 ms \| 2.00 s/);
		expect(html).toContain("1 rule firing.");
		expect(row(html, "original")).toBe("original | 401 | signature_mismatch | 37");
		expect(row(html, "cricalgo")).toBe("cricalgo | 422 | validation_failed | 2");

		// Each version's figures come from the rules' own queries, narrowed to that version.
		const { calls } = await standIn("calls");
		const sql = calls.filter((c) => c.path.endsWith("/analytics_engine/sql")).map((c) => c.body);
		expect(sql.some((q) => q.includes("errors_5xx") && q.includes(onlyVersion(CANARY)))).toBe(true);
		expect(sql.every((q) => q.includes("FROM cricalgo_edge_local"))).toBe(true);
		expect(calls.some((c) => c.path.endsWith("/workers/scripts/cricalgo-edge/deployments"))).toBe(true);
	});

	it("reads the window the operator chooses, and refuses one it does not offer", async () => {
		await deployed();
		await standIn("scenario", {
			scenario: watchScenario({ stable: STABLE, canary: CANARY, consumer: CONSUMER }),
		});
		const { browser } = await signedIn();
		const hour = await browser.request("/console/watch?minutes=60");
		expect(hour.status).toBe(200);
		const html = await hour.text();
		expect(html).toContain('<option value="60" selected="">last 60 minutes</option>');
		const { calls } = await standIn("calls");
		const versionQuery = calls.find(
			(c) => c.body.includes(onlyVersion(CANARY)) && c.body.includes("errors_5xx"),
		);
		const [, from, to] = /toDateTime\((\d+)\) AND timestamp < toDateTime\((\d+)\)/.exec(versionQuery!.body)!;
		expect(Number(to) - Number(from)).toBe(3600);

		await standIn("reset", {});
		const odd = await browser.request("/console/watch?minutes=7");
		expect(odd.status).toBe(422);
		expect(await odd.text()).toContain("The window is 5, 15, 60 minutes, not “7”.");
		expect((await standIn("calls")).calls).toEqual([]);
	});

	it("keeps what it could read when part of the API fails, and says which part and why", async () => {
		await standIn("scenario", {
			scenario: watchScenario({ stable: STABLE, canary: CANARY, consumer: CONSUMER }),
		});
		// No deployment seeded: the Workers' deployments cannot be read.
		const { browser } = await signedIn();
		const res = await browser.request("/console/watch");
		expect(res.status).toBe(200);
		const html = await res.text();
		expect(html).toContain("Versions of cricalgo-edge in its current deployment could not be read");
		expect(html).toContain("This Worker does not exist on your account");
		expect(row(html, "original")).toBe("original | 401 | signature_mismatch | 37");
	});

	it("says which credentials are missing and how to set them, asking Cloudflare nothing", async () => {
		const admin = await createAdmin();
		const browser = new ConsoleBrowser(undefined, {
			CLOUDFLARE_API_TOKEN: undefined,
			CLOUDFLARE_ACCOUNT_ID: undefined,
		});
		expect((await browser.signIn(admin)).status).toBe(303);
		const res = await browser.request("/console/watch");
		expect(res.status).toBe(200);
		const html = await res.text();
		expect(html).toContain("CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are not set");
		expect(html).toContain("<code>wrangler secret put CLOUDFLARE_API_TOKEN --env production</code>");
		expect(html).toContain("wrangler dev accepts Analytics Engine data points and keeps none");
		expect((await standIn("calls")).calls).toEqual([]);
	});

	it("is for admins only: no session, or a player's token, gets the sign-in and no figures", async () => {
		await deployed();
		await standIn("scenario", {
			scenario: watchScenario({ stable: STABLE, canary: CANARY, consumer: CONSUMER }),
		});
		const anonymous = await new ConsoleBrowser().request("/console/watch");
		expect(anonymous.status).toBe(303);
		expect(anonymous.headers.get("location")).toBe("/console/sign-in");

		const player = await userWithToken();
		const withToken = await new ConsoleBrowser().request("/console/watch", {
			headers: { authorization: `Bearer ${player.token}` },
		});
		expect(withToken.status).toBe(303);
		expect(withToken.headers.get("location")).toBe("/console/sign-in");
		expect((await standIn("calls")).calls).toEqual([]);
	});
});
