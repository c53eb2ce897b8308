/**
 * Writes one Analytics Engine data point per request (layout and the meaning of every blob and
 * double: schema/metrics.ts `REQUEST`). `writeDataPoint` returns at once and the runtime sends
 * the point after the response, so it adds nothing to the response time; a failure to write a
 * metric never fails a request.
 *
 * Latency is `Date.now()` at the end minus at the start. Workers advance that clock only across
 * I/O (a timing side-channel defence), so the figure covers the waits (the queue send) and not
 * the CPU time between them: compare it between versions, not with a client's stopwatch.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { IGNORED, REQUEST, toDataPoint } from "../../schema/metrics";
import type { MeteredEnv } from "./request-variables";

/** The Workers that answer HTTP, as their data points name them (schema/metrics.ts `worker`). */
export type HttpWorker = "edge" | "api";

/** The `route` of requests that matched no route (404 from the not-found handler). */
export const UNMATCHED_ROUTE = "(unmatched)";

/**
 * The route pattern that answered, e.g. "/api/v1/webhooks/:chain", never the raw path (bounded
 * cardinality). Read from the router's match, because `c.req.routePath` in an outer middleware
 * names that middleware's own pattern ("/*"). Middleware is registered for every method
 * ("ALL"); the last route with a concrete method is the handler. A handler that serves two kinds
 * of request under one pattern names the one it served (the webhooks: a chain or a source).
 */
function routePattern(c: Context<MeteredEnv>): string {
	const served = c.get("route");
	if (served) return served;
	const routes = matchedRoutes(c);
	for (let i = routes.length - 1; i >= 0; i--) {
		if (routes[i]!.method !== "ALL") return routes[i]!.path;
	}
	return UNMATCHED_ROUTE;
}

/**
 * Writes the request's data point, and for a webhook whose transfers were not all deposits one
 * IGNORED point per reason and chain; call it after the response is set. Never throws.
 */
export function recordRequest(c: Context<MeteredEnv>, worker: HttpWorker, latencyMs: number): void {
	try {
		const cf = (c.req.raw as { cf?: { colo?: unknown } }).cf;
		const versionId = c.env.CF_VERSION_METADATA?.id ?? "";
		const transfers = c.get("transfers");
		c.env.METRICS?.writeDataPoint(
			toDataPoint(REQUEST, {
				kind: "request",
				worker,
				versionId,
				route: routePattern(c),
				method: c.req.method,
				chain: c.get("chain"),
				colo: typeof cf?.colo === "string" ? cf.colo : "",
				errorCode: c.get("errorCode"),
				status: c.res.status,
				latencyMs,
				enqueueFailed: c.get("enqueueFailed") ? 1 : 0,
				source: c.get("source"),
				reason: c.get("reason"),
				deposits: transfers.deposits,
				ignored: transfers.ignored.length,
				held: transfers.held,
			}),
		);
		const counts = new Map<string, number>();
		for (const { reason, chain } of transfers.ignored) {
			counts.set(`${reason}\n${chain}`, (counts.get(`${reason}\n${chain}`) ?? 0) + 1);
		}
		for (const [key, count] of counts) {
			const [reason = "", chain = ""] = key.split("\n");
			c.env.METRICS?.writeDataPoint(
				toDataPoint(IGNORED, {
					kind: "ignored",
					worker,
					versionId,
					source: c.get("source"),
					reason,
					chain,
					count,
				}),
			);
		}
	} catch (error) {
		console.error("metrics write failed:", error);
	}
}

/**
 * The first middleware of an app: sets the request variables to their defaults, and after the
 * response writes the request's one data point as `worker`. Each request is counted by the
 * Worker that served it: the edge does not count what the API Worker answered for it.
 */
export function meterRequests(worker: HttpWorker): MiddlewareHandler<MeteredEnv> {
	return async (c, next) => {
		const started = Date.now();
		c.set("errorCode", "");
		c.set("route", "");
		c.set("chain", "");
		c.set("enqueueFailed", false);
		c.set("source", "");
		c.set("reason", "");
		c.set("transfers", { deposits: 0, held: 0, ignored: [] });
		c.set("forwarded", false);
		await next();
		if (c.get("forwarded")) return;
		// writeDataPoint is not awaited: the runtime sends the point after the response.
		recordRequest(c, worker, Date.now() - started);
	};
}
