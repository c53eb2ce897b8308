/**
 * Writes the request data point (layout in schema/metrics.ts). `writeDataPoint` is
 * fire-and-forget in the runtime, so it adds nothing to the response time; a failure to write
 * a metric never fails a request.
 *
 * @module
 */
import type { Context } from "hono";
import { REQUEST, toDataPoint } from "../../../schema/metrics";
import type { AppEnv } from "../env";

export function recordRequest(c: Context<AppEnv>, latencyMs: number): void {
	try {
		const cf = (c.req.raw as { cf?: { colo?: string } }).cf;
		c.env.METRICS?.writeDataPoint(
			toDataPoint(REQUEST, {
				kind: "request",
				worker: "edge",
				versionId: c.env.CF_VERSION_METADATA?.id ?? "",
				route: c.req.routePath,
				method: c.req.method,
				chain: c.get("chain"),
				colo: cf?.colo ?? "",
				errorCode: c.get("errorCode"),
				status: c.res.status,
				latencyMs,
				enqueueFailed: c.get("enqueueFailed") ? 1 : 0,
			}),
		);
	} catch (error) {
		console.error("metrics write failed:", error);
	}
}
