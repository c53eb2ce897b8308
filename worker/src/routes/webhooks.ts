/**
 * `POST /api/v1/webhooks/:chain`: a deposit webhook, answered in milliseconds.
 *
 * Order of work: body size, enforced by the app's body limit before any route (413) → known
 * chain (404) → signature over the raw bytes (401; 503 when no secret is configured) → JSON
 * media type (415) → UTF-8 and JSON (400) → fields (422) → deterministic `tx_id` →
 * `queue.send` (503 with Retry-After when the queue refuses, so the sender retries and nothing
 * is lost) → 202 `{"ok": true, "tx_id": "..."}`. Nothing here waits on the database.
 *
 * The media type is checked after the signature so that unsigned callers learn nothing but 401.
 *
 * @module
 */
import { Hono } from "hono";
import { CHAINS, type Chain, type DepositMessage } from "../../../schema/queue-message";
import { depositTxId } from "../../../schema/tx-id";
import type { AppEnv } from "../env";
import { ApiError, serviceUnavailable } from "../errors";
import { enqueue } from "../lib/deposit-queue";
import { verifySignature } from "../lib/signature";
import { parseWebhookPayload } from "../lib/webhook-payload";

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

function isChain(value: string): value is Chain {
	return (CHAINS as readonly string[]).includes(value);
}

function isJson(contentType: string | undefined): boolean {
	const type = (contentType ?? "").split(";", 1)[0]!.trim().toLowerCase();
	return type === "application/json" || (type.startsWith("application/") && type.endsWith("+json"));
}

export const webhooks = new Hono<AppEnv>().post("/:chain", async (c) => {
	const chain = c.req.param("chain").toLowerCase();
	if (!isChain(chain)) {
		throw new ApiError(404, "not_found", `unknown chain; known chains: ${CHAINS.join(", ")}`, {
			known_chains: CHAINS,
		});
	}
	c.set("chain", chain);

	const raw = new Uint8Array(await c.req.arrayBuffer());
	const verified = await verifySignature(c.req.raw.headers, raw, {
		secrets: c.env.WEBHOOK_SECRETS,
		legacy: c.env.LEGACY_SIGNATURES === "true",
	});
	if (!verified.ok) {
		if (verified.reason === "not_configured") {
			// A deployment without secrets: refuse, but retryably, so deposits wait for the fix.
			throw serviceUnavailable(verified.message);
		}
		throw new ApiError(401, "signature_invalid", verified.message);
	}

	if (!isJson(c.req.header("content-type"))) {
		throw new ApiError(415, "unsupported_media_type", "send the webhook as Content-Type: application/json");
	}
	let text: string;
	try {
		text = utf8.decode(raw);
	} catch {
		throw new ApiError(400, "bad_request", "the body is not valid UTF-8");
	}
	const payload = parseWebhookPayload(text, chain);
	if (!payload.ok) {
		throw payload.status === 400
			? new ApiError(400, "bad_request", payload.message)
			: new ApiError(422, "validation_failed", payload.message, { issues: payload.issues });
	}

	const { deposit } = payload;
	const txId = await depositTxId(chain, deposit.tx_hash, deposit.log_index);
	const message: DepositMessage = {
		v: 1,
		tx_id: txId,
		...deposit,
		webhook_id: verified.webhookId,
		received_at: new Date().toISOString(),
	};
	if (!(await enqueue(c.env.DEPOSITS, message))) {
		c.set("enqueueFailed", true);
		throw serviceUnavailable(
			"the deposit queue did not accept the webhook; nothing was recorded, retry later",
		);
	}
	return c.json({ ok: true as const, tx_id: txId }, 202);
});
