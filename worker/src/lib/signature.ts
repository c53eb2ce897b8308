/**
 * Webhook signature checks over the raw body bytes, one per scheme a source can be configured
 * with, all failing closed (no secret configured: nothing verifies). Every configured secret of
 * the source is tried, so a secret is rotated by configuring old and new side by side.
 *
 * - **`standard-webhooks`** (what the official `standardwebhooks` and `svix` libraries send):
 *   `webhook-id`, `webhook-timestamp` and `webhook-signature`, or their Svix names `svix-id`,
 *   `svix-timestamp` and `svix-signature` (the same scheme under its original header names). The
 *   signature header holds one or more space-separated `v1,<base64>` HMAC-SHA256 signatures of
 *   `${id}.${timestamp}.${body}`; the timestamp must lie within ±{@link TOLERANCE_SECONDS} of
 *   now, both ways. The key is the secret's base64 text decoded, with or without `whsec_`.
 * - **`x-signature`** (the original CricAlgo senders): `X-Signature` or `X-Hub-Signature-256`
 *   holds the hex HMAC-SHA256 of the body, optionally prefixed `sha256=`, keyed by the secret's
 *   UTF-8 text. Nothing in it says when it was signed: the route pairs it with a replay guard.
 * - **`alchemy`** (Alchemy Notify): `X-Alchemy-Signature` holds the hex HMAC-SHA256 of the raw
 *   body, keyed by the webhook's signing key as text
 *   (https://www.alchemy.com/docs/reference/notify-api-quickstart, "Webhook signature & security").
 * - **`moralis`** (Moralis Streams): `x-signature` holds `0x` + the hex Keccak-256 of the body
 *   with the stream secret appended, `sha3(JSON.stringify(body) + secret)` in Moralis' SDK
 *   (https://docs.moralis.com/streams/security-and-reliability/webhook-security). Moralis sends
 *   the body as that `JSON.stringify`, so the raw bytes are what it signed; they are checked as
 *   received, never re-serialised.
 *
 * HMACs are compared by `crypto.subtle.verify` and hashes by `crypto.subtle.timingSafeEqual`,
 * both in constant time. A request carrying the headers of a scheme its route does not accept
 * is told so, never tried against a weaker one.
 *
 * @module
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { splitSecrets } from "../../../shared/webhook-secrets";

/** How far a Standard Webhooks timestamp may be from now, either way (the specification's default). */
export const TOLERANCE_SECONDS = 300;
/** More `v1` signatures than this in one header are refused: each costs an HMAC per secret. */
export const MAX_SIGNATURES = 8;
/** The queue message's `webhook_id` holds at most this many characters. */
const MAX_WEBHOOK_ID_LENGTH = 256;

export const SCHEMES = ["standard-webhooks", "x-signature", "alchemy", "moralis"] as const;
export type Scheme = (typeof SCHEMES)[number];

/** Why a signature was refused: the `reason` of the request's metrics data point. */
type SignatureRefusal =
	| "no_secret"
	| "missing_signature"
	| "malformed_signature"
	| "conflicting_headers"
	| "timestamp_out_of_tolerance"
	| "signature_mismatch"
	| "wrong_scheme";

export type VerifyResult =
	| { ok: true; scheme: Scheme; webhookId: string | null }
	| { ok: false; reason: SignatureRefusal; message: string };

const encoder = new TextEncoder();
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const TIMESTAMP = /^\d{1,12}$/;

const refuse = (reason: SignatureRefusal, message: string): VerifyResult => ({ ok: false, reason, message });

function fromBase64(value: string): Uint8Array | null {
	try {
		return Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0));
	} catch {
		return null;
	}
}

function fromHex(value: string): Uint8Array | null {
	if (!HEX.test(value)) return null;
	const bytes = new Uint8Array(value.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(value.slice(i * 2, i * 2 + 2), 16);
	return bytes;
}

function concat(head: Uint8Array, tail: Uint8Array): Uint8Array {
	const out = new Uint8Array(head.length + tail.length);
	out.set(head, 0);
	out.set(tail, head.length);
	return out;
}

/** The raw key bytes a scheme derives from each configured secret. */
function keyBytes(scheme: Scheme, secrets: string[]): Uint8Array[] {
	if (scheme !== "standard-webhooks") return secrets.map((s) => encoder.encode(s));
	// A secret that is not base64 has no Standard Webhooks key.
	return secrets
		.map((s) => fromBase64(s.startsWith("whsec_") ? s.slice(6) : s))
		.filter((key): key is Uint8Array => key !== null && key.length > 0);
}

function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

// Importing a key costs more than the HMAC itself: keep each source's keys for the life of the
// isolate, keyed by scheme and the secrets' text (a changed secret is a new deployment anyway).
const hmacKeys = new Map<string, Promise<CryptoKey[]>>();

function hmacKeysFor(scheme: Scheme, secrets: string[]): Promise<CryptoKey[]> {
	const cacheKey = `${scheme}\n${secrets.join("\n")}`;
	let keys = hmacKeys.get(cacheKey);
	if (!keys) {
		keys = Promise.all(keyBytes(scheme, secrets).map(importHmacKey));
		// A failed import must not stick: the next request tries again.
		keys.catch(() => hmacKeys.delete(cacheKey));
		hmacKeys.set(cacheKey, keys);
	}
	return keys;
}

async function anyHmacVerifies(keys: CryptoKey[], signatures: Uint8Array[], data: Uint8Array) {
	for (const key of keys) {
		for (const signature of signatures) {
			if (await crypto.subtle.verify("HMAC", key, signature, data)) return true;
		}
	}
	return false;
}

/** A Standard Webhooks header under its own name or its Svix name; both must agree when both are sent. */
function standardHeader(headers: Headers, name: "id" | "timestamp" | "signature"): string | null | false {
	const standard = headers.get(`webhook-${name}`);
	const svix = headers.get(`svix-${name}`);
	if (standard !== null && svix !== null && standard !== svix) return false;
	return standard ?? svix;
}

/** Whether the request carries any header of the Standard Webhooks scheme, under either name. */
export function hasStandardHeaders(headers: Headers): boolean {
	return ["id", "timestamp", "signature"].some(
		(n) => headers.has(`webhook-${n}`) || headers.has(`svix-${n}`),
	);
}

async function verifyStandard(headers: Headers, body: Uint8Array, secrets: string[], nowMs: number) {
	const id = standardHeader(headers, "id");
	const timestamp = standardHeader(headers, "timestamp");
	const signatureHeader = standardHeader(headers, "signature");
	if (id === false || timestamp === false || signatureHeader === false) {
		return refuse(
			"conflicting_headers",
			"webhook-* and svix-* headers disagree: send one set (they are the same scheme under two names)",
		);
	}
	const missing = [
		["webhook-id", id],
		["webhook-timestamp", timestamp],
		["webhook-signature", signatureHeader],
	].flatMap(([name, value]) => (value ? [] : [name]));
	if (missing.length > 0) {
		return refuse(
			"missing_signature",
			`missing ${missing.join(", ")}: all three Standard Webhooks headers are required (svix-id, svix-timestamp, svix-signature also work)`,
		);
	}
	if (id!.length > MAX_WEBHOOK_ID_LENGTH) {
		return refuse("malformed_signature", `webhook-id is longer than ${MAX_WEBHOOK_ID_LENGTH} characters`);
	}
	if (!TIMESTAMP.test(timestamp!)) {
		return refuse("malformed_signature", "webhook-timestamp is not a Unix time in whole seconds");
	}
	const skew = Math.floor(nowMs / 1000) - Number(timestamp);
	if (Math.abs(skew) > TOLERANCE_SECONDS) {
		return refuse(
			"timestamp_out_of_tolerance",
			skew > 0
				? `webhook-timestamp is ${skew} s old; at most ${TOLERANCE_SECONDS} s is accepted`
				: `webhook-timestamp is ${-skew} s in the future; at most ${TOLERANCE_SECONDS} s is accepted`,
		);
	}
	const candidates = signatureHeader!.split(" ").filter((s) => s.startsWith("v1,"));
	if (candidates.length === 0)
		return refuse("malformed_signature", "webhook-signature holds no v1 signature");
	if (candidates.length > MAX_SIGNATURES) {
		return refuse("malformed_signature", `webhook-signature holds more than ${MAX_SIGNATURES} v1 signatures`);
	}
	const signatures = candidates.map((s) => fromBase64(s.slice(3))).filter((s): s is Uint8Array => s !== null);
	const keys = await hmacKeysFor("standard-webhooks", secrets);
	const signed = concat(encoder.encode(`${id}.${timestamp}.`), body);
	if (keys.length > 0 && (await anyHmacVerifies(keys, signatures, signed))) {
		return { ok: true, scheme: "standard-webhooks", webhookId: id! } satisfies VerifyResult;
	}
	return refuse("signature_mismatch", "no webhook-signature matches a configured secret");
}

/** A hex HMAC-SHA256 of the body in `header` (legacy and Alchemy). */
async function verifyHexHmac(
	scheme: "x-signature" | "alchemy",
	value: string,
	body: Uint8Array,
	secrets: string[],
): Promise<VerifyResult> {
	const hex = scheme === "x-signature" ? value.trim().replace(/^sha256=/i, "") : value.trim();
	const signature = fromHex(hex);
	if (signature?.length !== 32) {
		return refuse(
			"malformed_signature",
			scheme === "x-signature"
				? "X-Signature is not a hex HMAC-SHA256 (optionally prefixed sha256=)"
				: "X-Alchemy-Signature is not a hex HMAC-SHA256",
		);
	}
	if (!(await anyHmacVerifies(await hmacKeysFor(scheme, secrets), [signature], body))) {
		return refuse(
			"signature_mismatch",
			`the ${scheme === "alchemy" ? "X-Alchemy-Signature" : "X-Signature"} does not match a configured secret`,
		);
	}
	return { ok: true, scheme, webhookId: null };
}

function verifyMoralis(value: string, body: Uint8Array, secrets: string[]): VerifyResult {
	const signature = fromHex(value.trim().replace(/^0x/i, ""));
	if (signature?.length !== 32) {
		return refuse("malformed_signature", "x-signature is not 0x followed by a hex Keccak-256 hash");
	}
	for (const secret of secrets) {
		const expected = keccak_256(concat(body, encoder.encode(secret)));
		if (crypto.subtle.timingSafeEqual(expected, signature))
			return { ok: true, scheme: "moralis", webhookId: null };
	}
	return refuse("signature_mismatch", "x-signature does not match a configured stream secret");
}

const LEGACY_HEADERS = ["x-signature", "x-hub-signature-256"];

/** The scheme whose headers a request carries, if any. */
function schemeOfHeaders(headers: Headers): Scheme | null {
	if (hasStandardHeaders(headers)) return "standard-webhooks";
	if (headers.has("x-alchemy-signature")) return "alchemy";
	if (LEGACY_HEADERS.some((h) => headers.has(h))) return "x-signature";
	return null;
}

const HOW_TO_SIGN: Record<Scheme, string> = {
	"standard-webhooks":
		"webhook-id, webhook-timestamp and webhook-signature (or svix-id, svix-timestamp, svix-signature)",
	"x-signature": "X-Signature: sha256=<hex HMAC-SHA256 of the body>",
	alchemy: "X-Alchemy-Signature: <hex HMAC-SHA256 of the body>",
	moralis: "x-signature: 0x<Keccak-256 of the body followed by the stream secret>",
};

/**
 * Verifies a request's signature under one `scheme`, over its raw body bytes.
 *
 * @param secrets - the source's secrets, space or comma separated (several during a rotation)
 * @param now - the current time in ms (tests)
 *
 * @example
 * ```ts
 * const result = await verifySignature("standard-webhooks", req.headers, body, env.WEBHOOK_SECRETS);
 * if (!result.ok) throw new ApiError(401, "signature_invalid", result.message);
 * ```
 */
export async function verifySignature(
	scheme: Scheme,
	headers: Headers,
	body: Uint8Array,
	secrets: string | undefined,
	now = Date.now(),
): Promise<VerifyResult> {
	const configured = splitSecrets(secrets);
	if (configured.length === 0) {
		return refuse(
			"no_secret",
			"no signing secret is configured for this webhook source, so nothing it sends is accepted",
		);
	}
	switch (scheme) {
		case "standard-webhooks":
			if (hasStandardHeaders(headers)) return verifyStandard(headers, body, configured, now);
			break;
		case "x-signature": {
			const value = headers.get("x-signature") ?? headers.get("x-hub-signature-256");
			if (value !== null) return verifyHexHmac(scheme, value, body, configured);
			break;
		}
		case "alchemy": {
			const value = headers.get("x-alchemy-signature");
			if (value !== null) return verifyHexHmac(scheme, value, body, configured);
			break;
		}
		case "moralis": {
			const value = headers.get("x-signature");
			if (value !== null) return verifyMoralis(value, body, configured);
			break;
		}
	}
	const sent = schemeOfHeaders(headers);
	return sent && sent !== scheme
		? refuse("wrong_scheme", `this source does not accept ${sent} signatures: send ${HOW_TO_SIGN[scheme]}`)
		: refuse("missing_signature", `missing signature: send ${HOW_TO_SIGN[scheme]}`);
}

/** The hex SHA-256 of a body: the id of deliveries whose scheme gives them none. */
export async function bodyDigest(body: Uint8Array): Promise<string> {
	const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
	return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
