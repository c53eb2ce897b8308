import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { REQUEST } from "../../schema/metrics";
import { UNMATCHED_ROUTE } from "../../shared/http/metrics";
import { app } from "../src/app";
import { recordingQueue } from "./support/queue";
import { BASE, signedInit, WEBHOOK_URL, watcherDeposit } from "./support/webhooks";

type DataPoint = { blobs: string[]; doubles: number[]; indexes: string[] };

/** Local Analytics Engine keeps nothing: wrap the binding to see what the Worker writes. */
function recordingMetrics() {
	const points: DataPoint[] = [];
	const metrics = {
		writeDataPoint: (point: DataPoint) => void points.push(point),
	} as unknown as AnalyticsEngineDataset;
	return { metrics, points };
}

/** Reads a data point back by the names of the REQUEST layout. */
function named(point: DataPoint) {
	return Object.fromEntries(
		Object.entries(REQUEST).map(([name, column]) => {
			const index = Number(column.replace(/^\D+/, "")) - 1;
			return [name, column.startsWith("blob") ? point.blobs[index] : point.doubles[index]];
		}),
	);
}

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

	it("records the health route and unmatched paths with bounded route names", async () => {
		const health = await send(new Request(`${BASE}/api/v1/health`));
		expect(named(health.points[0]!)).toMatchObject({ route: "/api/v1/health", status: 200, method: "GET" });
		const stray = await send(new Request(`${BASE}/wp-login.php?x=${crypto.randomUUID()}`));
		expect(named(stray.points[0]!)).toMatchObject({
			route: UNMATCHED_ROUTE,
			status: 404,
			errorCode: "not_found",
		});
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
