/**
 * Request input through one door: JSON bodies only (one media-type rule for every JSON route,
 * the webhooks' too: 415 otherwise), bounded in size (413), valid JSON (400), then a zod schema
 * (422 listing every failing field, errors.ts `fieldErrors`). Query strings and path parameters
 * go through the same 422.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type * as z from "../../schema/zod";
import { ApiError, fieldErrors, validationFailed } from "./errors";

/** Account bodies are a few short fields; anything larger is not one of ours. */
export const MAX_JSON_BODY_BYTES = 8 * 1024;

/**
 * Refuses bodies over `maxBytes` before they are read in full (Hono's body-limit middleware,
 * which also counts chunked bodies).
 */
export function limitBody(maxBytes = MAX_JSON_BODY_BYTES): MiddlewareHandler {
	return bodyLimit({
		maxSize: maxBytes,
		onError: () => {
			throw new ApiError("payload_too_large", `the body is larger than ${maxBytes} bytes`, {
				max_bytes: maxBytes,
			});
		},
	});
}

/** A 422 that lists each failing field as `{path, message}`. */
export function validationError(error: z.ZodError, where = "body"): ApiError {
	return validationFailed(`the ${where} is not valid`, fieldErrors(error.issues, { whole: where }));
}

/**
 * The media types read as JSON: `application/json` and any `application/<name>+json` (RFC 6839
 * structured syntax suffix), in any case, with parameters such as `charset`. Senders' libraries
 * differ in which they send, and every one of them is JSON.
 */
export function isJsonMediaType(contentType: string | undefined): boolean {
	const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
	return /^application\/(?:[a-z0-9!#$&^_.+-]+\+)?json$/.test(type);
}

/** The 415 for a body not declared as JSON. */
export function unsupportedMediaType(): ApiError {
	return new ApiError(
		"unsupported_media_type",
		"send the body as JSON with Content-Type: application/json (or an application/*+json type)",
	);
}

/**
 * Parses and validates a JSON body.
 *
 * @example
 * ```ts
 * const input = await jsonBody(c, z.object({ username: z.string() }));
 * ```
 */
export async function jsonBody<S extends z.ZodMiniType>(c: Context, schema: S): Promise<z.infer<S>> {
	if (!isJsonMediaType(c.req.header("content-type"))) throw unsupportedMediaType();
	let body: unknown;
	try {
		body = JSON.parse(await c.req.text());
	} catch {
		throw new ApiError("bad_request", "the body is not valid JSON");
	}
	const parsed = schema.safeParse(body);
	if (!parsed.success) throw validationError(parsed.error);
	return parsed.data;
}

/** Validates the query string (a parameter given twice counts with its first value). */
export function queryInput<S extends z.ZodMiniType>(c: Context, schema: S): z.infer<S> {
	const parsed = schema.safeParse(c.req.query());
	if (!parsed.success) throw validationError(parsed.error, "query");
	return parsed.data;
}

/** Validates one path parameter. */
export function pathParam<S extends z.ZodMiniType>(c: Context, name: string, schema: S): z.infer<S> {
	const parsed = schema.safeParse(c.req.param(name));
	if (!parsed.success) {
		throw validationFailed(
			`the path parameter ${name} is not valid`,
			fieldErrors(parsed.error.issues, { under: name }),
		);
	}
	return parsed.data;
}
