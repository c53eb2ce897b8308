/**
 * Signs webhook requests the way real senders do, with the official `standardwebhooks`
 * library, for the CLI, the smoke test and the load tools, and as each provider source signs
 * ({@link signAs}).
 *
 * @module
 */
import { createHmac, randomUUID } from "node:crypto";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { Webhook } from "standardwebhooks";

export interface SignedRequest {
	headers: Record<string, string>;
	body: string;
}

/** Signs `payload` (an object, serialised here, or an exact body string) with `secret`. */
export function signWebhook(
	secret: string,
	payload: unknown,
	options: { id?: string; at?: Date } = {},
): SignedRequest {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	const id = options.id ?? `msg_${randomUUID()}`;
	const at = options.at ?? new Date();
	const signature = new Webhook(secret).sign(id, at, body);
	return {
		body,
		headers: {
			"content-type": "application/json",
			"webhook-id": id,
			"webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
			"webhook-signature": signature,
		},
	};
}

/** The signing schemes of the webhook sources, by how a sender signs (see worker/src/lib/signature.ts). */
export type SigningScheme = "standard-webhooks" | "svix" | "x-signature" | "alchemy" | "moralis";

function hmacHex(secret: string, body: string): string {
	return createHmac("sha256", secret).update(body, "utf8").digest("hex");
}

/**
 * Signs `body` (exact text) the way a sender of `scheme` does: Standard Webhooks (with the
 * official library; `svix` sends the same under the svix-* header names), the original senders'
 * `X-Signature: sha256=<hex HMAC>`, Alchemy's `X-Alchemy-Signature: <hex HMAC>` of the raw body,
 * and Moralis' `x-signature: 0x<Keccak-256 of body + secret>`.
 */
export function signAs(scheme: SigningScheme, secret: string, body: string): SignedRequest {
	const json = { "content-type": "application/json" };
	switch (scheme) {
		case "standard-webhooks":
			return signWebhook(secret, body);
		case "svix": {
			const { headers } = signWebhook(secret, body);
			return {
				body,
				headers: {
					...json,
					"svix-id": headers["webhook-id"]!,
					"svix-timestamp": headers["webhook-timestamp"]!,
					"svix-signature": headers["webhook-signature"]!,
				},
			};
		}
		case "x-signature":
			return { body, headers: { ...json, "x-signature": `sha256=${hmacHex(secret, body)}` } };
		case "alchemy":
			return { body, headers: { ...json, "x-alchemy-signature": hmacHex(secret, body) } };
		case "moralis":
			return {
				body,
				headers: { ...json, "x-signature": `0x${bytesToHex(keccak_256(utf8ToBytes(body + secret)))}` },
			};
	}
}
