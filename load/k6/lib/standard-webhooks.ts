/**
 * Signs a webhook exactly as a Standard Webhooks sender does (the official `standardwebhooks`
 * and `svix` libraries): HMAC-SHA256 over `${webhook-id}.${webhook-timestamp}.${body}`, keyed by
 * the base64-decoded part of the `whsec_` secret, sent as `webhook-signature: v1,<base64>`.
 *
 * @module
 */
import crypto from "k6/crypto";
import encoding from "k6/encoding";

/** The raw key of a `whsec_…` secret. Decoded once per VU, not per request. */
export function signingKey(secret: string): ArrayBuffer {
	return encoding.b64decode(secret.slice("whsec_".length), "std");
}

/**
 * The three Standard Webhooks headers (plus content type) for one delivery of `body`.
 * `at` is the signing time; a retry re-signs with a fresh timestamp, as senders do.
 *
 * @example
 * const headers = signedHeaders(signingKey(secret), "msg_1", body);
 */
export function signedHeaders(
	key: ArrayBuffer,
	webhookId: string,
	body: string,
	at: Date = new Date(),
): Record<string, string> {
	const timestamp = String(Math.floor(at.getTime() / 1000));
	const signature = crypto.hmac("sha256", key, `${webhookId}.${timestamp}.${body}`, "base64");
	return {
		"content-type": "application/json",
		"webhook-id": webhookId,
		"webhook-timestamp": timestamp,
		"webhook-signature": `v1,${signature}`,
	};
}
