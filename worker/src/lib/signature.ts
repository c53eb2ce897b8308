/**
 * Webhook signature checks, failing closed.
 *
 * Standard Webhooks v1: `webhook-signature` holds one or more space-separated `v1,<base64>`
 * HMAC-SHA256 signatures of `${webhook-id}.${webhook-timestamp}.${body}`; the timestamp must
 * lie within ±{@link TOLERANCE_SECONDS} of now. Every configured secret is tried, so secrets can
 * be rotated without downtime. The legacy scheme of the original senders (`X-Signature` or
 * `X-Hub-Signature-256`: hex HMAC-SHA256 of the body, optional `sha256=` prefix) is accepted
 * only where the environment enables it. Comparisons go through `crypto.subtle.verify`, which
 * is constant-time. With no secret configured, nothing verifies.
 *
 * @module
 */

export const TOLERANCE_SECONDS = 300;

export type VerifyResult =
	| { ok: true; scheme: "standard" | "legacy"; webhookId: string | null }
	| { ok: false; reason: string };

const encoder = new TextEncoder();

/** Splits `WEBHOOK_SECRETS` (space or comma separated) into HMAC keys' raw bytes. */
export function parseSecrets(value: string | undefined): Uint8Array[] {
	return (value ?? "")
		.split(/[\s,]+/)
		.filter(Boolean)
		.map((secret) => {
			if (secret.startsWith("whsec_")) {
				try {
					return Uint8Array.from(atob(secret.slice(6)), (ch) => ch.charCodeAt(0));
				} catch {
					// A malformed whsec_ secret never matches rather than breaking the others.
					return new Uint8Array();
				}
			}
			return encoder.encode(secret);
		})
		.filter((key) => key.length > 0);
}

function importKey(raw: Uint8Array) {
	return crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["verify", "sign"]);
}

function fromBase64(value: string): Uint8Array | null {
	try {
		return Uint8Array.from(atob(value), (ch) => ch.charCodeAt(0));
	} catch {
		return null;
	}
}

function fromHex(value: string): Uint8Array | null {
	if (!/^(?:[0-9a-fA-F]{2})+$/.test(value)) return null;
	const bytes = new Uint8Array(value.length / 2);
	for (let i = 0; i < bytes.length; i++) bytes[i] = Number.parseInt(value.slice(i * 2, i * 2 + 2), 16);
	return bytes;
}

async function anyKeyVerifies(keys: Uint8Array[], signatures: Uint8Array[], data: Uint8Array) {
	for (const raw of keys) {
		const key = await importKey(raw);
		for (const signature of signatures) {
			if (await crypto.subtle.verify("HMAC", key, signature, data)) return true;
		}
	}
	return false;
}

function concat(...parts: Uint8Array[]): Uint8Array {
	const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
	let offset = 0;
	for (const p of parts) {
		out.set(p, offset);
		offset += p.length;
	}
	return out;
}

/**
 * Verifies a request's signature over its raw body bytes.
 *
 * @example
 * ```ts
 * const result = await verifySignature(req.headers, body, { secrets: env.WEBHOOK_SECRETS, legacy: false });
 * if (!result.ok) return 401;
 * ```
 */
export async function verifySignature(
	headers: Headers,
	body: Uint8Array,
	options: { secrets: string | undefined; legacy: boolean; now?: number },
): Promise<VerifyResult> {
	const keys = parseSecrets(options.secrets);
	if (keys.length === 0) return { ok: false, reason: "no webhook secret is configured on this endpoint" };

	const id = headers.get("webhook-id");
	const timestamp = headers.get("webhook-timestamp");
	const signatureHeader = headers.get("webhook-signature");
	if (id !== null || timestamp !== null || signatureHeader !== null) {
		if (!id || !timestamp || !signatureHeader) {
			return { ok: false, reason: "webhook-id, webhook-timestamp and webhook-signature are all required" };
		}
		if (!/^\d{1,15}$/.test(timestamp))
			return { ok: false, reason: "webhook-timestamp is not a Unix time in seconds" };
		const now = Math.floor((options.now ?? Date.now()) / 1000);
		if (Math.abs(now - Number(timestamp)) > TOLERANCE_SECONDS) {
			return { ok: false, reason: `webhook-timestamp is more than ${TOLERANCE_SECONDS} s away from now` };
		}
		const signatures = signatureHeader
			.split(" ")
			.filter((s) => s.startsWith("v1,"))
			.map((s) => fromBase64(s.slice(3)))
			.filter((s): s is Uint8Array => s !== null);
		if (signatures.length === 0) return { ok: false, reason: "webhook-signature holds no v1 signature" };
		const signed = concat(encoder.encode(`${id}.${timestamp}.`), body);
		return (await anyKeyVerifies(keys, signatures, signed))
			? { ok: true, scheme: "standard", webhookId: id }
			: { ok: false, reason: "no signature matches" };
	}

	const legacyHeader = headers.get("x-signature") ?? headers.get("x-hub-signature-256");
	if (legacyHeader !== null && options.legacy) {
		const signature = fromHex(legacyHeader.trim().replace(/^sha256=/, ""));
		if (!signature) return { ok: false, reason: "the legacy signature is not hex" };
		return (await anyKeyVerifies(keys, [signature], body))
			? { ok: true, scheme: "legacy", webhookId: null }
			: { ok: false, reason: "no signature matches" };
	}
	return {
		ok: false,
		reason: options.legacy
			? "missing signature: send webhook-id, webhook-timestamp and webhook-signature (or X-Signature)"
			: "missing signature: send webhook-id, webhook-timestamp and webhook-signature",
	};
}
