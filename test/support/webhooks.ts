/**
 * Builds webhook requests the way real senders do: Standard Webhooks signatures from the
 * official `standardwebhooks` package, the same scheme under its Svix header names from the
 * official `svix` package, legacy `X-Signature` headers as the original senders computed them
 * (hex HMAC-SHA256 of the body, keyed by the secret's text: the original's
 * app/api/v1/webhooks.py and scripts/smoke_test.py), and deposit bodies of both original shapes.
 *
 * @module
 */
import { Webhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import { TEST_LEGACY_SECRET, TEST_WEBHOOK_SECRET } from "../projects";

export const BASE = "https://edge.test";
export const WEBHOOK_URL = `${BASE}/api/v1/webhooks/bep20`;

/** A fresh random EVM transaction hash. */
export function randomTxHash(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(32));
	return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * The watcher's full shape, with every field valid. No `user_id` by default: the edge database
 * has no users, and the consumer running beside the tests would have nothing to credit.
 */
export function watcherDeposit(overrides: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		tx_hash: randomTxHash(),
		confirmations: 12,
		chain: "bep20",
		to_address: "0x1234567890abcdef1234567890abcdef12345678",
		amount: "20.0",
		currency: "USDT",
		status: "confirmed",
		block_number: 1234567,
		metadata: { telegram_user_id: 693173957 },
		...overrides,
	};
}

/** Signs `payload` (object or exact body text) with the official library; returns RequestInit. */
export function signedInit(
	payload: unknown,
	options: { secret?: string; id?: string; at?: Date; headers?: Record<string, string> } = {},
): RequestInit & { headers: Record<string, string>; body: string } {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	const id = options.id ?? `msg_${crypto.randomUUID()}`;
	const at = options.at ?? new Date();
	const headers = {
		"content-type": "application/json",
		"webhook-id": id,
		"webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
		"webhook-signature": new Webhook(options.secret ?? TEST_WEBHOOK_SECRET).sign(id, at, body),
		...options.headers,
	};
	return { method: "POST", headers, body };
}

/**
 * Signs `payload` with the official `svix` library and sends it under the Svix header names
 * (`svix-id`, `svix-timestamp`, `svix-signature`), as a Svix-based sender does.
 */
export function svixInit(
	payload: unknown,
	options: { secret?: string; id?: string; at?: Date } = {},
): RequestInit & { headers: Record<string, string>; body: string } {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	const id = options.id ?? `msg_${crypto.randomUUID()}`;
	const at = options.at ?? new Date();
	const headers = {
		"content-type": "application/json",
		"svix-id": id,
		"svix-timestamp": String(Math.floor(at.getTime() / 1000)),
		"svix-signature": new SvixWebhook(options.secret ?? TEST_WEBHOOK_SECRET).sign(id, at, body),
	};
	return { method: "POST", headers, body };
}

/** A request as the original senders send it: `X-Signature` over the exact body bytes. */
export async function legacyInit(
	payload: unknown,
	options: { secret?: string; header?: string; prefix?: string } = {},
): Promise<RequestInit & { headers: Record<string, string>; body: string }> {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	const signature = await legacySignature(options.secret ?? TEST_LEGACY_SECRET, body);
	return {
		method: "POST",
		headers: {
			"content-type": "application/json",
			[options.header ?? "x-signature"]: `${options.prefix ?? ""}${signature}`,
		},
		body,
	};
}

/** The original senders' signature: hex HMAC-SHA256 of the body, keyed by the secret's text. */
export async function legacySignature(secret: string, body: string | Uint8Array): Promise<string> {
	const key = await crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(secret),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const bytes = typeof body === "string" ? new TextEncoder().encode(body) : body;
	const mac = await crypto.subtle.sign("HMAC", key, bytes);
	return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The JSON error envelope every failure uses. */
export interface ErrorBody {
	ok: false;
	error: { code: string; message: string; request_id: string; [detail: string]: unknown };
}
