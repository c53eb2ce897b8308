/**
 * The steps every webhook route shares, in the order they run: the source's signature over the
 * raw bytes (401; 503 when it has no secret), its sunset and rate limit (401, 429), the media type
 * and UTF-8 (415, 400), then, for sources whose signatures carry no time, the replay guard around
 * the enqueue (a replay is a 200 duplicate; 503 when the guard cannot be reached). Each refusal
 * records its reason for the request's metrics data point, with the source once it is known.
 *
 * @module
 */
import type { Context } from "hono";
import {
	ApiError,
	describeFields,
	type FieldError,
	serviceUnavailable,
	validationFailed,
} from "../../../shared/http/errors";
import { isJsonMediaType, unsupportedMediaType } from "../../../shared/http/request-input";
import type { ConfiguredSource } from "../config";
import type { AppEnv } from "../env";
import { deliveryGuard } from "./delivery-guard";
import { type Scheme, type VerifyResult, verifySignature } from "./signature";

type Ctx = Context<AppEnv>;

/** Throws `error`, recording `reason` for the metrics data point. */
export function refuse(c: Ctx, reason: string, error: ApiError): never {
	c.set("reason", reason);
	throw error;
}

/**
 * Verifies the request against each candidate source (those of its route whose scheme matches its
 * headers) and returns the one whose secret signed it, with the delivery's id if the scheme has one.
 */
export async function authenticate(
	c: Ctx,
	candidates: readonly ConfiguredSource[],
	scheme: Scheme,
	raw: Uint8Array,
): Promise<{ source: ConfiguredSource; webhookId: string | null }> {
	if (candidates.length === 1) c.set("source", candidates[0]!.name);
	let failure: VerifyResult & { ok: false } = {
		ok: false,
		reason: "no_secret",
		message: "no signing secret is configured for this webhook source, so nothing it sends is accepted",
	};
	for (const source of candidates) {
		const result = await verifySignature(scheme, c.req.raw.headers, raw, source.secretValue);
		if (result.ok) {
			c.set("source", source.name);
			return { source, webhookId: result.webhookId };
		}
		// The most telling failure wins: a configured secret that did not match over a missing one.
		if (failure.reason === "no_secret") failure = result;
	}
	if (failure.reason === "no_secret") {
		// A deployment without secrets: refuse, but retryably, so deposits wait for the fix.
		refuse(c, failure.reason, serviceUnavailable(`${failure.message} (set its secret binding)`));
	}
	return refuse(c, failure.reason, new ApiError("signature_invalid", failure.message));
}

/** Refuses what an authenticated source may no longer send: past its sunset, or over its rate. */
export async function admit(c: Ctx, source: ConfiguredSource): Promise<void> {
	if (source.sunset && Date.now() >= source.sunset.getTime()) {
		refuse(
			c,
			"legacy_sunset",
			new ApiError(
				"signature_invalid",
				`X-Signature was retired on ${source.sunset.toISOString().slice(0, 10)}: sign with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature); docs/cutover.md says how`,
			),
		);
	}
	if (!source.rateLimiter) return;
	const { limiter } = source;
	let allowed: boolean;
	try {
		if (!limiter) throw new Error(`no rate limit binding named ${source.rateLimiter}`);
		({ success: allowed } = await limiter.limit({ key: `webhook:${source.name}` }));
	} catch (error) {
		console.error(`rate limiter of webhook source ${source.name} failed:`, error);
		return refuse(
			c,
			"rate_limiter_unavailable",
			serviceUnavailable("the webhook rate limiter is unavailable; retry later"),
		);
	}
	if (!allowed) {
		refuse(
			c,
			"rate_limited",
			new ApiError(
				"rate_limited",
				`webhook source ${source.name} is sending faster than its configured rate; retry later`,
				{},
				{ "Retry-After": "10" },
			),
		);
	}
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/**
 * The body as text once it is declared JSON (415) and valid UTF-8 (400). Checked after the
 * signature, so that unsigned callers learn nothing but 401.
 */
export function jsonText(c: Ctx, raw: Uint8Array): string {
	if (!isJsonMediaType(c.req.header("content-type")))
		refuse(c, "unsupported_media_type", unsupportedMediaType());
	try {
		return utf8.decode(raw);
	} catch {
		return refuse(c, "not_utf8", new ApiError("bad_request", "the body is not valid UTF-8"));
	}
}

/** A body refused by its parser: not JSON (`invalid_json`), or failing `fields`. */
export interface PayloadFailure {
	reason: string;
	fields: FieldError[];
	/** What the answer says; by default the failing fields in one line. */
	message?: string;
}

/**
 * Refuses a body its parser refused, the one mapping of parse results to answers for every
 * webhook format: 400 for a body that is not a JSON object, 422 listing the failing fields.
 */
export function refusePayload(c: Ctx, failure: PayloadFailure): never {
	const message = failure.message ?? describeFields(failure.fields);
	return refuse(
		c,
		failure.reason,
		failure.reason === "invalid_json"
			? new ApiError("bad_request", message)
			: validationFailed(message, failure.fields),
	);
}

/**
 * Runs `send` once per delivery for sources whose signatures carry no time: a delivery (the
 * source and `key`, what identifies the delivery: see ./delivery-guard.ts) seen before within the
 * source's window is a "duplicate" and sends nothing. Other sources just send. `send` answers whether the queue took
 * it; a refusal releases the claim, so the sender's retry is new again.
 */
export async function sendOnce(
	c: Ctx,
	source: ConfiguredSource,
	key: string,
	send: () => Promise<boolean>,
): Promise<"sent" | "duplicate" | "refused"> {
	if (source.replayWindowSeconds === null) return (await send()) ? "sent" : "refused";
	const guard = deliveryGuard(c.env.DELIVERY_GUARD, source.name, key);
	let claim: Awaited<ReturnType<typeof guard.claim>>;
	try {
		claim = await guard.claim(source.replayWindowSeconds * 1000);
	} catch (error) {
		console.error("the delivery guard could not be reached:", error);
		return refuse(
			c,
			"replay_guard_unavailable",
			serviceUnavailable("the replay guard is unavailable, so nothing was accepted; retry later"),
		);
	}
	if (claim === "duplicate") {
		c.set("reason", "duplicate_delivery");
		return "duplicate";
	}
	if (claim === "in_flight") {
		refuse(
			c,
			"in_flight",
			serviceUnavailable("the same delivery is being accepted right now; retry in a few seconds"),
		);
	}
	const sent = await send();
	try {
		await guard.settle(sent);
	} catch (error) {
		// Sent but not marked: the claim lapses in 30 s, after which an identical body would be
		// enqueued once more, which settlement treats as a redelivery.
		console.error("the delivery guard could not record the delivery:", error);
	}
	return sent ? "sent" : "refused";
}
