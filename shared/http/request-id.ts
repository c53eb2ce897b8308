/**
 * The request id every error answer carries (in its body and the `Request-Id` header), so a
 * player's or a sender's report can be matched with Cloudflare's logs: the `cf-ray` header
 * Cloudflare's edge sets on every request, or a generated id where there is none (locally,
 * tests, the console's in-process calls).
 *
 * @module
 */
import type { Context } from "hono";

/** The response header that carries the request id. */
export const REQUEST_ID_HEADER = "Request-Id";

/** The request's id: its `cf-ray`, else one generated once per request. */
export function requestId(c: Context): string {
	const known = c.get("requestId") as string | undefined;
	if (known) return known;
	const id = c.req.header("cf-ray") || crypto.randomUUID();
	c.set("requestId", id);
	return id;
}
