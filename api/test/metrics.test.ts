import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { UNMATCHED_ROUTE } from "../../shared/http/metrics";
import { named, recordingMetrics } from "../../test/support/metrics";
import { BASE } from "../../test/support/webhooks";
import { app } from "../src/app";

const VERSION = { id: "7b1f0c2e-api-version-under-test", tag: "canary", timestamp: "2026-11-01T00:00:00Z" };

/** A request to the API's app with a recording METRICS binding. */
async function send(request: Request) {
	const { metrics, points } = recordingMetrics();
	const res = await app.request(request, undefined, {
		...env,
		METRICS: metrics,
		CF_VERSION_METADATA: VERSION,
	});
	return { res, points };
}

describe("one Analytics Engine data point per request the API Worker serves", () => {
	it("records an API route with its route pattern, status and version, as the API Worker", async () => {
		const { res, points } = await send(new Request(`${BASE}/api/v1/transactions/not-a-uuid`));
		expect(res.status).toBe(401);
		expect(points.map(named)).toEqual([
			expect.objectContaining({
				kind: "request",
				worker: "api",
				versionId: VERSION.id,
				route: "/api/v1/transactions/:tx_id",
				method: "GET",
				status: 401,
				errorCode: "unauthorized",
			}),
		]);
	});

	it("records unmatched paths with a bounded route name", async () => {
		const stray = await send(new Request(`${BASE}/wp-login.php?x=${crypto.randomUUID()}`));
		expect(stray.points.map(named)).toEqual([
			expect.objectContaining({ worker: "api", route: UNMATCHED_ROUTE, status: 404, errorCode: "not_found" }),
		]);
	});
});
