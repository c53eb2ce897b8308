/**
 * One error type and one JSON shape for every failure a Worker answers over HTTP (the edge and the API):
 * `{"ok": false, "error": {"code", "message", "request_id", ...details}}`, where a 422 lists each
 * failing field as `fields: [{path, message}]`. An error's HTTP status follows from its code
 * ({@link STATUS_OF}), so a code can never travel with the wrong status; Hono's own exceptions
 * keep theirs. The response's error code is recorded for the request's metrics data point here,
 * and only here.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { REQUEST_ID_HEADER, requestId } from "./request-id";

/** Every error code the API answers with, and the status each one is answered with. */
export const STATUS_OF = {
	bad_request: 400,
	unauthorized: 401,
	signature_invalid: 401,
	forbidden: 403,
	not_found: 404,
	conflict: 409,
	payload_too_large: 413,
	unsupported_media_type: 415,
	validation_failed: 422,
	rate_limited: 429,
	account_locked: 429,
	internal_error: 500,
	service_unavailable: 503,
	address_pool_empty: 503,
} as const satisfies Record<string, ContentfulStatusCode>;

export type ErrorCode = keyof typeof STATUS_OF;

/** One failing input field of a 422: its dotted path (e.g. `metadata.note`) and what is wrong. */
export interface FieldError {
	path: string;
	message: string;
}

/**
 * A failure with the code the client gets; its status follows from the code.
 *
 * @example
 * ```ts
 * throw new ApiError("not_found", "no such deposit");
 * ```
 */
export class ApiError extends Error {
	readonly status: ContentfulStatusCode;

	constructor(
		readonly code: ErrorCode,
		message: string,
		readonly details: Record<string, unknown> = {},
		readonly headers: Record<string, string> = {},
	) {
		super(message);
		this.name = "ApiError";
		this.status = STATUS_OF[code];
	}
}

/** Most failing fields a webhook answer lists: enough to fix a body, bounded for hostile ones. */
export const MAX_FIELD_ERRORS = 10;

/** A parse issue as a validator reports it (zod's shape): where, as path segments, and what. */
export interface ParseIssue {
	readonly path: readonly PropertyKey[];
	readonly message: string;
}

/**
 * Parse issues as the 422's field errors, the one mapping every route uses: dotted paths, the
 * empty path named `whole` (the input itself), each path below `under` when given, at most `max`.
 *
 * @example
 * ```ts
 * fieldErrors(zodError.issues, { whole: "query" }); // [{ path: "limit", message: "..." }]
 * ```
 */
export function fieldErrors(
	issues: readonly ParseIssue[],
	{
		whole = "(body)",
		under = "",
		max = Number.POSITIVE_INFINITY,
	}: { whole?: string; under?: string; max?: number } = {},
): FieldError[] {
	return issues.slice(0, max).map((issue) => {
		const path = issue.path.map(String).join(".");
		return { path: under ? (path ? `${under}.${path}` : under) : path || whole, message: issue.message };
	});
}

/** The failing fields in one line, for a 422's message: `amount must be …; currency must be …`. */
export function describeFields(fields: readonly FieldError[]): string {
	return fields.map((f) => `${f.path} ${f.message}`).join("; ");
}

/** A 422 listing every failing field. */
export function validationFailed(message: string, fields: FieldError[]): ApiError {
	return new ApiError("validation_failed", message, { fields });
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
	return new ApiError(code, message, details, { "Retry-After": String(RETRY_AFTER_SECONDS) });
}

/** The envelope of `error`, answered with `status` (its code's, unless a Hono exception's). */
function envelope(c: Context, error: ApiError, status: ContentfulStatusCode = error.status): Response {
	const id = requestId(c);
	c.set("errorCode", error.code);
	c.header(REQUEST_ID_HEADER, id);
	for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
	return c.json(
		{
			ok: false as const,
			error: { code: error.code, message: error.message, request_id: id, ...error.details },
		},
		status,
	);
}

/** The error code of a Hono exception's status: the first code of that status, else by class. */
function codeOfStatus(status: number): ErrorCode {
	const code = (Object.keys(STATUS_OF) as ErrorCode[]).find((k) => STATUS_OF[k] === status);
	return code ?? (status >= 500 ? "internal_error" : "bad_request");
}

/** The response of an {@link ApiError} (the not-found handler's, the error handler's). */
export function errorResponse(c: Context, error: ApiError): Response {
	return envelope(c, error);
}

/**
 * The error handler of every app that serves the API (the Worker's, and the operators' console's
 * dispatch to the admin routes): an {@link ApiError} in its own shape, Hono's HTTP exceptions with
 * their own status, anything else as a 500 that says nothing of its cause.
 */
export function handleError(error: Error, c: Context): Response {
	if (error instanceof ApiError) return envelope(c, error);
	if (error instanceof HTTPException) {
		const status = error.status as ContentfulStatusCode;
		return envelope(c, new ApiError(codeOfStatus(status), error.message || "bad request"), status);
	}
	console.error("unhandled error:", error);
	return envelope(c, new ApiError("internal_error", "internal error"));
}
