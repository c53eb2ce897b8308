/**
 * `POST /api/v1/webhooks/:chain`: signature over the raw body, then shape, then `queue.send`,
 * then 202 `{"ok": true, "tx_id": "..."}`. Nothing here waits on the database.
 *
 * @module
 */
import { Hono } from "hono";
import { CHAINS, type Chain, type DepositMessage } from "../../../schema/queue-message";
import type { AppEnv } from "../env";
import { ApiError } from "../errors";
import { verifySignature } from "../lib/signature";
import { depositTxId } from "../lib/tx-id";

export const webhooks = new Hono<AppEnv>().post("/:chain", async (c) => {
	const chain = c.req.param("chain").toLowerCase();
	if (!(CHAINS as readonly string[]).includes(chain)) {
		throw new ApiError(404, "not_found", `unknown chain "${chain}"; known chains: ${CHAINS.join(", ")}`);
	}
	c.set("chain", chain);
	const raw = new Uint8Array(await c.req.arrayBuffer());
	const verified = await verifySignature(c.req.raw.headers, raw, {
		secrets: c.env.WEBHOOK_SECRETS,
		legacy: c.env.LEGACY_SIGNATURES === "true",
	});
	if (!verified.ok) throw new ApiError(401, "signature_invalid", verified.reason);

	let body: Record<string, unknown>;
	try {
		body = JSON.parse(new TextDecoder().decode(raw));
	} catch {
		throw new ApiError(400, "bad_request", "the body is not valid JSON");
	}
	const txHash = String(body.tx_hash ?? "");
	const logIndex = Number(body.log_index ?? 0);
	const txId = await depositTxId(chain as Chain, txHash, logIndex);
	const message: DepositMessage = {
		v: 1,
		tx_id: txId,
		chain: chain as Chain,
		tx_hash: txHash,
		log_index: logIndex,
		amount: String(body.amount),
		currency: String(body.currency ?? "USDT"),
		confirmations: typeof body.confirmations === "number" ? body.confirmations : null,
		status: "confirmed",
		to_address: typeof body.to_address === "string" ? body.to_address : null,
		user_id: typeof body.user_id === "string" ? body.user_id : null,
		block_number: null,
		metadata: null,
		webhook_id: verified.webhookId ?? txId,
		received_at: new Date().toISOString(),
	};
	try {
		await c.env.DEPOSITS.send(message, { contentType: "json" });
	} catch (error) {
		console.error("queue send failed:", error);
		c.set("enqueueFailed", true);
		throw new ApiError(
			503,
			"service_unavailable",
			"the deposit queue is unavailable; retry later",
			{},
			{ "Retry-After": "5" },
		);
	}
	return c.json({ ok: true as const, tx_id: txId }, 202);
});
