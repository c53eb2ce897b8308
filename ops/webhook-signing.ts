/**
 * Signs webhook requests the way real senders do, with the official `standardwebhooks`
 * library, for the CLI, the smoke test and the load tools.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
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
