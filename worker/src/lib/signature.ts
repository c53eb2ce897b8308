/**
 * Webhook signature checks over the raw body bytes, failing closed.
 *
 * **Standard Webhooks v1** (what the official `standardwebhooks` and `svix` libraries send):
 * `webhook-signature` holds one or more space-separated `v1,<base64>` HMAC-SHA256 signatures of
 * `${webhook-id}.${webhook-timestamp}.${body}`, and the timestamp must lie within
 * ±{@link TOLERANCE_SECONDS} of now, in both directions. The HMAC key of a secret is its base64
 * text decoded, with or without the `whsec_` prefix, exactly as the official libraries derive it.
 *
 * **Legacy** (the original senders, only where `LEGACY_SIGNATURES` is "true"): `X-Signature` or
 * `X-Hub-Signature-256` holds the hex HMAC-SHA256 of the body, optionally prefixed `sha256=`.
 * The key is the secret's text as written (the original senders HMAC with the UTF-8 bytes of the
 * configured string). Legacy deliveries carry no id, so their webhook id is `legacy:` + the hex
 * SHA-256 of the body: a redelivery of the same bytes gets the same id.
 *
 * Every configured secret is tried (`WEBHOOK_SECRETS`, space or comma separated), so a secret can
 * be rotated by configuring old and new side by side. Comparisons go through
 * `crypto.subtle.verify`, which compares in constant time. When Standard Webhooks headers are
 * present the legacy header is never consulted, so a request cannot fall back to the weaker
 * scheme. With no secret configured, nothing verifies.
 *
 * @module
 */
import { splitSecrets } from "./webhook-secrets";

/** How far `webhook-timestamp` may be from now, either way (the Standard Webhooks default). */
export const TOLERANCE_SECONDS = 300;
/** More `v1` signatures than this in one header are refused: each costs an HMAC per secret. */
export const MAX_SIGNATURES = 8;
/** The queue message's `webhook_id` holds at most this many characters. */
export const MAX_WEBHOOK_ID_LENGTH = 256;

export type VerifyResult =
	| { ok: true; scheme: "standard" | "legacy"; webhookId: string }
	| { ok: false; reason: "not_configured" | "invalid"; message: string };

interface Keys {
	/** HMAC keys for Standard Webhooks: each secret base64-decoded (secrets that are not base64 have none). */
	standard: CryptoKey[];
	/** HMAC keys for the legacy header: each secret's UTF-8 text. */
	legacy: CryptoKey[];
}

const encoder = new TextEncoder();
const HEX = /^(?:[0-9a-fA-F]{2})+$/;
const TIMESTAMP = /^\d{1,12}$/;

function importHmacKey(raw: Uint8Array): Promise<CryptoKey> {
	return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
}

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

function toHex(bytes: ArrayBuffer): string {
	return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function importKeys(secrets: string[]): Promise<Keys> {
	const standardRaw = secrets
		.map((s) => fromBase64(s.startsWith("whsec_") ? s.slice(6) : s))
		.filter((key): key is Uint8Array => key !== null && key.length > 0);
	return {
		standard: await Promise.all(standardRaw.map(importHmacKey)),
		legacy: await Promise.all(secrets.map((s) => importHmacKey(encoder.encode(s)))),
	};
}

// Importing a key costs more than the HMAC itself: keep the keys of the current secrets for the
// life of the isolate. A changed secret is a new deployment, hence a new isolate, but the cache
// is keyed by the secrets' text anyway.
let cached: { secrets: string; keys: Promise<Keys> } | undefined;

function keysFor(secrets: string): Promise<Keys> {
	if (cached?.secrets !== secrets) {
		const keys = importKeys(splitSecrets(secrets));
		// A failed import must not stick: the next request tries again.
		keys.catch(() => {
			if (cached?.keys === keys) cached = undefined;
		});
		cached = { secrets, keys };
	}
	return cached.keys;
}

async function anyKeyVerifies(keys: CryptoKey[], signatures: Uint8Array[], data: Uint8Array) {
	for (const key of keys) {
		for (const signature of signatures) {
			if (await crypto.subtle.verify("HMAC", key, signature, data)) return true;
		}
	}
	return false;
}

function concat(head: Uint8Array, body: Uint8Array): Uint8Array {
	const out = new Uint8Array(head.length + body.length);
	out.set(head, 0);
	out.set(body, head.length);
	return out;
}

const invalid = (message: string): VerifyResult => ({ ok: false, reason: "invalid", message });

async function verifyStandard(
	headers: Headers,
	body: Uint8Array,
	keys: CryptoKey[],
	nowMs: number,
): Promise<VerifyResult> {
	const id = headers.get("webhook-id");
	const timestamp = headers.get("webhook-timestamp");
	const signatureHeader = headers.get("webhook-signature");
	const missing = [
		["webhook-id", id],
		["webhook-timestamp", timestamp],
		["webhook-signature", signatureHeader],
	].flatMap(([name, value]) => (value ? [] : [name]));
	if (missing.length > 0)
		return invalid(`missing ${missing.join(", ")}: all three Standard Webhooks headers are required`);
	if (id!.length > MAX_WEBHOOK_ID_LENGTH)
		return invalid(`webhook-id is longer than ${MAX_WEBHOOK_ID_LENGTH} characters`);
	if (!TIMESTAMP.test(timestamp!)) return invalid("webhook-timestamp is not a Unix time in whole seconds");
	const skew = Math.floor(nowMs / 1000) - Number(timestamp);
	if (skew > TOLERANCE_SECONDS)
		return invalid(`webhook-timestamp is ${skew} s old; at most ${TOLERANCE_SECONDS} s is accepted`);
	if (-skew > TOLERANCE_SECONDS) {
		return invalid(
			`webhook-timestamp is ${-skew} s in the future; at most ${TOLERANCE_SECONDS} s is accepted`,
		);
	}
	const candidates = signatureHeader!.split(" ").filter((s) => s.startsWith("v1,"));
	if (candidates.length === 0) return invalid("webhook-signature holds no v1 signature");
	if (candidates.length > MAX_SIGNATURES)
		return invalid(`webhook-signature holds more than ${MAX_SIGNATURES} v1 signatures`);
	const signatures = candidates.map((s) => fromBase64(s.slice(3))).filter((s): s is Uint8Array => s !== null);
	const signed = concat(encoder.encode(`${id}.${timestamp}.`), body);
	if (keys.length > 0 && (await anyKeyVerifies(keys, signatures, signed))) {
		return { ok: true, scheme: "standard", webhookId: id! };
	}
	return invalid("no webhook-signature matches a configured secret");
}

async function verifyLegacy(headerValue: string, body: Uint8Array, keys: CryptoKey[]): Promise<VerifyResult> {
	const signature = fromHex(headerValue.trim().replace(/^sha256=/i, ""));
	if (!signature)
		return invalid("the legacy signature is not a hex HMAC-SHA256 (optionally prefixed sha256=)");
	if (!(await anyKeyVerifies(keys, [signature], body)))
		return invalid("the legacy signature does not match a configured secret");
	const digest = await crypto.subtle.digest("SHA-256", body);
	return { ok: true, scheme: "legacy", webhookId: `legacy:${toHex(digest)}` };
}

/**
 * Verifies a request's signature over its raw body bytes.
 *
 * @param headers - the request's headers
 * @param body - the body exactly as received
 * @param options.secrets - `WEBHOOK_SECRETS`: one or more secrets, space or comma separated
 * @param options.legacy - accept the original senders' `X-Signature` / `X-Hub-Signature-256`
 * @param options.now - the current time in ms (tests)
 *
 * @example
 * ```ts
 * const result = await verifySignature(req.headers, body, { secrets: env.WEBHOOK_SECRETS, legacy: false });
 * if (!result.ok) throw new ApiError(401, "signature_invalid", result.message);
 * ```
 */
export async function verifySignature(
	headers: Headers,
	body: Uint8Array,
	options: { secrets: string | undefined; legacy: boolean; now?: number },
): Promise<VerifyResult> {
	const keys = await keysFor(options.secrets ?? "");
	// Every configured secret has a legacy key, so none means no secret at all.
	if (keys.legacy.length === 0) {
		return {
			ok: false,
			reason: "not_configured",
			message:
				"no webhook secret is configured on this endpoint, so no webhook is accepted (set WEBHOOK_SECRETS)",
		};
	}
	if (headers.has("webhook-id") || headers.has("webhook-timestamp") || headers.has("webhook-signature")) {
		return verifyStandard(headers, body, keys.standard, options.now ?? Date.now());
	}
	const legacyHeader = headers.get("x-signature") ?? headers.get("x-hub-signature-256");
	if (legacyHeader !== null && options.legacy) return verifyLegacy(legacyHeader, body, keys.legacy);
	return invalid(
		legacyHeader !== null
			? "legacy signatures (X-Signature) are not accepted here: sign with Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"
			: options.legacy
				? "missing signature: send webhook-id, webhook-timestamp and webhook-signature (or X-Signature)"
				: "missing signature: send webhook-id, webhook-timestamp and webhook-signature",
	);
}
