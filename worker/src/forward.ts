/**
 * Everything the edge does not serve itself goes to the API Worker (api/) through the `API`
 * service binding, unchanged: the same method, URL, headers (`cf-connecting-ip` and `cf-ray`
 * among them, so the API's rate limits and request ids see the client) and the body as a stream,
 * never read here, so the edge buffers nothing and the API applies its own body limit. The API
 * answers as it would on its own host, and writes that request's metrics data point; the edge
 * writes none for it, so nothing is counted twice.
 *
 * When the binding itself fails (the API Worker missing or not reachable: Cloudflare's plumbing),
 * the edge answers 503 with Retry-After in the one error shape, and counts that request itself.
 *
 * @module
 */
import type { Context } from "hono";
import { serviceUnavailable } from "../../shared/http/errors";
import type { AppEnv } from "./env";

/** The `route` of a request the edge could not forward, in its metrics data point. */
export const FORWARD_ROUTE = "(forward)";

/**
 * Answers `c` with the API Worker's response to the same request.
 *
 * @throws {ApiError} 503 `service_unavailable` when the service binding throws.
 */
export async function forwardToApi(c: Context<AppEnv>): Promise<Response> {
	let response: Response;
	try {
		response = await c.env.API.fetch(c.req.raw);
	} catch (error) {
		console.error("the API Worker could not be reached:", error);
		c.set("route", FORWARD_ROUTE);
		throw serviceUnavailable("this part of the API is unavailable; retry later");
	}
	c.set("forwarded", true);
	return response;
}
