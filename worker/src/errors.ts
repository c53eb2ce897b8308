/**
 * One error type and one JSON shape for every failure the edge Worker reports:
 * `{"ok": false, "error": {"code", "message", ...details}}`.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export type ErrorCode =
	| "bad_request"
	| "unauthorized"
	| "signature_invalid"
	| "forbidden"
	| "not_found"
	| "conflict"
	| "payload_too_large"
	| "unsupported_media_type"
	| "validation_failed"
	| "rate_limited"
	| "account_locked"
	| "service_unavailable"
	| "address_pool_empty"
	| "internal_error";

/**
 * A failure with the status and code the client gets.
 *
 * @example
 * ```ts
 * throw new ApiError(404, "not_found", "no such deposit");
 * ```
 */
export class ApiError extends Error {
	constructor(
		readonly status: ContentfulStatusCode,
		readonly code: ErrorCode,
		message: string,
		readonly details: Record<string, unknown> = {},
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "ApiError";
	}
}

/** Seconds a client should wait before retrying after a 503. */
const RETRY_AFTER_SECONDS = 5;

/**
 * A retryable refusal: 503 with `Retry-After`. Nothing was done; the client retries, so
 * nothing is lost. `code` names a cause operators watch for on its own (it is the request's
 * error code in the metrics).
 */
export function serviceUnavailable(
	message: string,
	details: Record<string, unknown> = {},
	code: Extract<ErrorCode, "service_unavailable" | "address_pool_empty"> = "service_unavailable",
): ApiError {
	return new ApiError(503, code, message, details, {
		"Retry-After": String(RETRY_AFTER_SECONDS),
	});
}

export function errorResponse(c: Context, error: ApiError): Response {
	for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
	return c.json(
		{ ok: false as const, error: { code: error.code, message: error.message, ...error.details } },
		error.status,
	);
}

/**
 * The error handler of every app that serves the API (the Worker's, and the operators' console's
 * dispatch to the admin routes): an {@link ApiError} in its own shape, Hono's HTTP exceptions as
 * `bad_request`, anything else as a 500 that says nothing of its cause.
 */
export function handleError(error: Error, c: Context): Response {
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
}
