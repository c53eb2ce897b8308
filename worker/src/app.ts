/**
 * The edge Worker's Hono app: routes, the JSON error envelope, and a metrics data point for
 * every request.
 *
 * @module
 */
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AppEnv } from "./env";
import { ApiError, errorResponse } from "./errors";
import { recordRequest } from "./lib/metrics";
import { health } from "./routes/health";
import { webhooks } from "./routes/webhooks";

export const app = new Hono<AppEnv>();

app.use(async (c, next) => {
	const started = Date.now();
	c.set("errorCode", "");
	c.set("chain", "");
	c.set("enqueueFailed", false);
	await next();
	recordRequest(c, Date.now() - started);
});

app.route("/api/v1/health", health);
app.route("/api/v1/webhooks", webhooks);

app.notFound((c) =>
	errorResponse(c, new ApiError(404, "not_found", `no route for ${c.req.method} ${c.req.path}`)),
);

app.onError((error, c) => {
	if (error instanceof ApiError) {
		c.set("errorCode", error.code);
		return errorResponse(c, error);
	}
	if (error instanceof HTTPException) {
		const apiError = new ApiError(
			error.status as ApiError["status"],
			"bad_request",
			error.message || "bad request",
		);
		c.set("errorCode", apiError.code);
		return errorResponse(c, apiError);
	}
	console.error("unhandled error:", error);
	c.set("errorCode", "internal_error");
	return errorResponse(c, new ApiError(500, "internal_error", "internal error"));
});
