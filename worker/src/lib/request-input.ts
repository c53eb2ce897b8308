/**
 * Request input for the account and admin routes, through one door: JSON bodies only (415
 * otherwise), bounded in size (413), valid JSON (400), then a zod schema (422 listing every
 * failing field). Query strings and path parameters go through the same 422.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type * as z from "../../../schema/zod";
import { ApiError } from "../errors";

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
			throw new ApiError(413, "payload_too_large", `the body is larger than ${maxBytes} bytes`, {
				max_bytes: maxBytes,
			});
		},
	});
}

/** A 422 that lists each failing field as `{path, message}`. */
export function validationError(error: z.ZodError, where = "body"): ApiError {
	const fields = error.issues.map((issue) => ({
		path: issue.path.length ? issue.path.join(".") : where,
		message: issue.message,
	}));
	return new ApiError(422, "validation_failed", `the ${where} is not valid`, { fields });
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
	const type = c.req.header("content-type") ?? "";
	if (!/^application\/json\s*(;|$)/i.test(type)) {
		throw new ApiError(
			415,
			"unsupported_media_type",
			"send the body as JSON with Content-Type: application/json",
		);
	}
	let body: unknown;
	try {
		body = JSON.parse(await c.req.text());
	} catch {
		throw new ApiError(400, "bad_request", "the body is not valid JSON");
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
		throw new ApiError(422, "validation_failed", `the path parameter ${name} is not valid`, {
			fields: parsed.error.issues.map((issue) => ({ path: name, message: issue.message })),
		});
	}
	return parsed.data;
}
