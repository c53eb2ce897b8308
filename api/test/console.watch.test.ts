/**
 * The console's watch page against the Cloudflare stand-in (seeded by support/watch-stand-in.ts):
 * canary beside stable for each of the three Workers, the queues, every alert rule's state, refused webhooks
 * by source and reason; admins only; missing credentials and a failing API answered on the page,
 * not as a 500.
 */
import { beforeEach, describe, expect, it } from "vitest";
import { onlyVersion } from "../../test/support/alert-scenario";
import { createAdmin, userWithToken } from "./support/accounts";
import { ConsoleBrowser, pageHtml, signedIn, tableRow } from "./support/console";
import { API, CANARY, CONSUMER, calls, STABLE, seedWatch, standIn } from "./support/watch-stand-in";

beforeEach(async () => {
	await standIn("reset", {});
});

describe("the watch page", () => {
	it("shows canary against stable, the queues, each rule's state and refusals by source and reason", async () => {
		await seedWatch();
		const { browser } = await signedIn();

		const html = await pageHtml(browser, "/console/watch");

		expect(tableRow(html, STABLE)).toBe(
			`${STABLE} | stable | 90 % | 9000 | 0.100 % | 140 ms | 380 ms | 7000 | 95 ms`,
		);
		expect(tableRow(html, CANARY)).toBe(
			`${CANARY} | canary | 10 % | 1000 | 2.0 % | 2.60 s | 4.10 s | 800 | 1.25 s`,
		);
		// The API Worker: its own requests, no webhook columns (webhooks stay on the edge).
		expect(html).toContain("Versions of cricalgo-api in its current deployment");
		expect(tableRow(html, API)).toBe(`${API} | stable | 100 % | 2400 | 0.000 % | 180 ms | 460 ms`);
		expect(tableRow(html, CONSUMER)).toBe(`${CONSUMER} | stable | 100 % | 7800 | 0.000/s | 1.70 s | 0`);
		expect(html).toMatch(/Backlog of deposits<\/dt><dd>3 msgs/);
		// The rollout gate judges the canary from its own query, as `ops rollout` would now.
		expect(html).toContain("Rollout gate on the canary: roll back.");
		const text = html.replace(/<[^>]+>/g, "");
		expect(text).toContain("fails error rate: canary 2.00 % (20/1000), limit 0.50 %");
		expect(text).toContain("fails p95: canary 2600 ms, limit 2000 ms");
		expect(text).toContain("holds p99: canary 4100 ms, limit 5000 ms");
		// The API Worker and the consumer each run one version.
		expect(html.split("One version serves all traffic: no canary to judge.").length - 1).toBe(2);

		// The refusal spike of one source fires; its runbook is on the page.
		expect(tableRow(html, "WebhookRefusalSpike")).toMatch(
			/^WebhookRefusalSpike \| critical \| firing \| 37 \| 20 \| 2 \/ 2 min/,
		);
		expect(html).toContain("Runbook:");
		expect(tableRow(html, "HTTPHighP95")).toMatch(/^HTTPHighP95 \| warning \| ok \| 150 ms \| 2.00 s/);
		expect(html).toContain("1 rule firing.");
		expect(tableRow(html, "original")).toBe("original | 401 | signature_mismatch | 37");
		expect(tableRow(html, "cricalgo")).toBe("cricalgo | 422 | validation_failed | 2");

		// Each version's figures come from the rules' own queries, narrowed to that version.
		const asked = await calls();
		const sql = asked.filter((c) => c.path.endsWith("/analytics_engine/sql")).map((c) => c.body);
		expect(sql.some((q) => q.includes("errors_5xx") && q.includes(onlyVersion(CANARY)))).toBe(true);
		expect(sql.every((q) => q.includes("FROM cricalgo_edge_local"))).toBe(true);
		expect(asked.some((c) => c.path.endsWith("/workers/scripts/cricalgo-edge/deployments"))).toBe(true);
		expect(asked.some((c) => c.path.endsWith("/workers/scripts/cricalgo-api/deployments"))).toBe(true);
		expect(sql.some((q) => q.includes("errors_5xx") && q.includes(onlyVersion(API)))).toBe(true);
	});

	it("reads the window the operator chooses, and refuses one it does not offer", async () => {
		await seedWatch();
		const { browser } = await signedIn();
		const html = await pageHtml(browser, "/console/watch?minutes=60");
		expect(html).toContain('<option value="60" selected="">last 60 minutes</option>');
		const versionQuery = (await calls()).find(
			(c) => c.body.includes(onlyVersion(CANARY)) && c.body.includes("errors_5xx"),
		);
		const [, from, to] = /toDateTime\((\d+)\) AND timestamp < toDateTime\((\d+)\)/.exec(versionQuery!.body)!;
		expect(Number(to) - Number(from)).toBe(3600);

		await standIn("reset", {});
		const odd = await browser.request("/console/watch?minutes=7");
		expect(odd.status).toBe(422);
		expect(await odd.text()).toContain("The window is 5, 15, 60 minutes, not “7”.");
		expect(await calls()).toEqual([]);
	});

	it("keeps what it could read when part of the API fails, and says which part and why", async () => {
		// No deployment seeded: the Workers' deployments cannot be read.
		await seedWatch({ deployments: false });
		const { browser } = await signedIn();
		const html = await pageHtml(browser, "/console/watch");
		expect(html).toContain("Versions of cricalgo-edge in its current deployment could not be read");
		expect(html).toContain("This Worker does not exist on your account");
		expect(tableRow(html, "original")).toBe("original | 401 | signature_mismatch | 37");
	});

	it("says which credentials are missing and how to set them, asking Cloudflare nothing", async () => {
		const admin = await createAdmin();
		const browser = new ConsoleBrowser(undefined, {
			CLOUDFLARE_API_TOKEN: undefined,
			CLOUDFLARE_ACCOUNT_ID: undefined,
		});
		expect((await browser.signIn(admin)).status).toBe(303);
		const html = await pageHtml(browser, "/console/watch");
		expect(html).toContain("CLOUDFLARE_ACCOUNT_ID and CLOUDFLARE_API_TOKEN are not set");
		expect(html).toContain("<code>wrangler secret put CLOUDFLARE_API_TOKEN --env production</code>");
		expect(html).toContain("wrangler dev accepts Analytics Engine data points and keeps none");
		expect(await calls()).toEqual([]);
	});

	it("is for admins only: no session, or a player's token, gets the sign-in and no figures", async () => {
		await seedWatch();
		const anonymous = await new ConsoleBrowser().request("/console/watch");
		expect(anonymous.status).toBe(303);
		expect(anonymous.headers.get("location")).toBe("/console/sign-in");

		const player = await userWithToken();
		const withToken = await new ConsoleBrowser().request("/console/watch", {
			headers: { authorization: `Bearer ${player.token}` },
		});
		expect(withToken.status).toBe(303);
		expect(withToken.headers.get("location")).toBe("/console/sign-in");
		expect(await calls()).toEqual([]);
	});
});
