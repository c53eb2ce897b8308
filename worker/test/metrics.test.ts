import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { named, recordingMetrics } from "../../test/support/metrics";
import { recordingQueue } from "../../test/support/queue";
import { BASE, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { app } from "../src/app";
import { FORWARD_ROUTE } from "../src/forward";

const VERSION = { id: "0e5d6c1a-version-under-test", tag: "canary", timestamp: "2026-11-01T00:00:00Z" };

async function send(request: Request, overrides: Partial<Env> = {}) {
	const { metrics, points } = recordingMetrics();
	const res = await app.request(request, undefined, {
		...env,
		METRICS: metrics,
		CF_VERSION_METADATA: VERSION,
		...overrides,
	});
	return { res, points };
}

describe("one Analytics Engine data point per request", () => {
	it("records an accepted webhook with its route pattern, chain, status, version, colo and latency", async () => {
		const request = new Request(WEBHOOK_URL, {
			...signedInit(watcherDeposit()),
			cf: { colo: "BOM" },
		} as RequestInit);
		const { res, points } = await send(request);
		expect(res.status).toBe(202);
		expect(points).toHaveLength(1);
		expect(named(points[0]!)).toEqual({
			kind: "request",
			worker: "edge",
			versionId: VERSION.id,
			route: "/api/v1/webhooks/:chain",
			method: "POST",
			chain: "bep20",
			colo: "BOM",
			errorCode: "",
			status: 202,
			latencyMs: expect.any(Number),
			enqueueFailed: 0,
			source: "cricalgo",
			reason: "",
			deposits: 1,
			ignored: 0,
			held: 0,
		});
		expect(named(points[0]!).latencyMs).toBeGreaterThanOrEqual(0);
		expect(points[0]!.indexes).toEqual([`request:${VERSION.id}`]);
	});

	it("records refusals with their error code, and the route pattern rather than the raw path", async () => {
		const { points } = await send(
			new Request(`${BASE}/api/v1/webhooks/dogecoin`, signedInit(watcherDeposit())),
		);
		expect(named(points[0]!)).toMatchObject({
			route: "/api/v1/webhooks/:chain",
			chain: "",
			status: 404,
			errorCode: "not_found",
		});

		const unsigned = await send(new Request(WEBHOOK_URL, { method: "POST", body: "{}" }));
		expect(named(unsigned.points[0]!)).toMatchObject({
			status: 401,
			errorCode: "signature_invalid",
			chain: "bep20",
			reason: "missing_signature",
			deposits: 0,
		});
	});

	it("names the sender and the reason of a refusal, as the console's watch page lists them", async () => {
		// Our watcher signing with a secret the Worker no longer holds: a rotation done on one side.
		const stale = `whsec_${btoa("a secret this Worker was never given!")}`;
		const { points } = await send(new Request(WEBHOOK_URL, signedInit(watcherDeposit(), { secret: stale })));
		expect(named(points[0]!)).toMatchObject({
			route: "/api/v1/webhooks/:chain",
			status: 401,
			source: "cricalgo",
			reason: "signature_mismatch",
		});
		const signed = signedInit(watcherDeposit());
		const wrongType = await send(
			new Request(WEBHOOK_URL, { ...signed, headers: { ...signed.headers, "content-type": "text/plain" } }),
		);
		expect(named(wrongType.points[0]!)).toMatchObject({ status: 415, source: "cricalgo" });
	});

	it("marks a webhook the queue refused", async () => {
		const failing = { send: () => Promise.reject(new Error("queue down")) } as unknown as Queue;
		const { points } = await send(new Request(WEBHOOK_URL, signedInit(watcherDeposit())), {
			DEPOSITS: failing,
		});
		expect(named(points[0]!)).toMatchObject({
			status: 503,
			errorCode: "service_unavailable",
			enqueueFailed: 1,
		});
	});

	it("records the health route with its route name, as the edge Worker", async () => {
		const health = await send(new Request(`${BASE}/api/v1/health`));
		expect(named(health.points[0]!)).toMatchObject({
			worker: "edge",
			route: "/api/v1/health",
			status: 200,
			method: "GET",
		});
	});

	it("writes no point for what the API Worker answered, and one for a request it could not forward", async () => {
		// The API Worker on the far side of the binding is a stand-in here: the API's own point
		// (api/test/metrics.test.ts) is written where the API's app runs.
		const answered = await send(new Request(`${BASE}/wp-login.php?x=${crypto.randomUUID()}`), {
			API: { fetch: async () => new Response("not here", { status: 404 }) } as unknown as Fetcher,
		});
		expect(answered.res.status).toBe(404);
		expect(answered.points).toEqual([]);
		const failed = await send(new Request(`${BASE}/api/v1/wallet`), {
			API: {
				fetch: async () => {
					throw new Error("no such service");
				},
			} as unknown as Fetcher,
		});
		expect(failed.res.status).toBe(503);
		expect(failed.points.map(named)).toEqual([
			expect.objectContaining({
				worker: "edge",
				route: FORWARD_ROUTE,
				status: 503,
				errorCode: "service_unavailable",
				method: "GET",
			}),
		]);
	});

	it("never fails a request because the metric could not be written", async () => {
		const { queue } = recordingQueue({ forwardTo: env.DEPOSITS });
		const broken = {
			writeDataPoint: () => {
				throw new Error("analytics unavailable");
			},
		} as unknown as AnalyticsEngineDataset;
		const res = await app.request(WEBHOOK_URL, signedInit(watcherDeposit()), {
			...env,
			DEPOSITS: queue,
			METRICS: broken,
		});
		expect(res.status).toBe(202);
	});
});
