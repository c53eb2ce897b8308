/**
 * The Cloudflare stand-in (test/support/cloudflare-stand-in.ts) as the watch page's tests drive
 * it from inside workerd: reset it, seed the three Workers' deployments (a canary beside stable
 * for the edge Worker, one version each for the API Worker and the consumer) and the analytics
 * answers of the watch scenario, and read back the calls the page made.
 *
 * @module
 */
import "../../../test/support/cloudflare-stand-in-context";
import { expect, inject } from "vitest";
import { watchScenario } from "../../../test/support/alert-scenario";

const cf = inject("cloudflareStandIn");

export const STABLE = "5ab1e000-0000-4000-8000-000000000001";
export const CANARY = "ca4a2100-0000-4000-8000-000000000002";
export const CONSUMER = "c0450000-0000-4000-8000-000000000003";
export const API = "a0100000-0000-4000-8000-000000000004";

/** Asks the stand-in's control API at `path` (a POST with `body`, else a GET). */
export async function standIn(path: string, body?: unknown) {
	const res = await fetch(`${cf.origin}/__stand-in/${path}`, {
		method: body === undefined ? "GET" : "POST",
		headers: { "content-type": "application/json" },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	expect(res.status, await res.clone().text()).toBe(200);
	return res.json() as Promise<{ calls: { method: string; path: string; body: string }[] }>;
}

/** What the page asked of Cloudflare since the last reset. */
export async function calls() {
	return (await standIn("calls")).calls;
}

/**
 * The watch scenario's analytics answers, and (unless `deployments` is false, so that reading
 * them fails) the deployments of the three Workers.
 */
export async function seedWatch({ deployments = true } = {}) {
	if (deployments) {
		await standIn("deployment", {
			script: "cricalgo-edge",
			versions: [
				{ version_id: CANARY, percentage: 10 },
				{ version_id: STABLE, percentage: 90 },
			],
		});
		await standIn("deployment", {
			script: "cricalgo-api",
			versions: [{ version_id: API, percentage: 100 }],
		});
		await standIn("deployment", {
			script: "cricalgo-queue-consumer",
			versions: [{ version_id: CONSUMER, percentage: 100 }],
		});
	}
	await standIn("scenario", {
		scenario: watchScenario({ stable: STABLE, canary: CANARY, api: API, consumer: CONSUMER }),
	});
}
