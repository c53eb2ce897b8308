/**
 * `POST /api/v1/webhooks/<source>` for a provider source (Moralis Streams, Alchemy Notify): one
 * request carries a block's worth of token transfers.
 *
 * Order of work: the source's signature over the raw bytes (401; 503 without a secret) → its rate
 * limit (429) → JSON media type (415) → UTF-8 and JSON (400) → no key given twice, the payload's
 * shape, storable text and an enabled chain (422 naming the field) → each transfer sorted
 * (lib/token-transfers.ts): a deposit, held for review, or ignored → the replay guard (a
 * delivery of the same transfers in the same blocks seen before, be it a replay or the
 * provider's retry, is a 200 `duplicate`) → the held transfers to the dead-letter queue, then every
 * deposit as its own message, all in one `sendBatch` (503 with Retry-After when the queue
 * refuses: nothing was recorded as a deposit, the provider retries) → 202 listing each deposit
 * with its `tx_id` (deterministic: a redelivery names the same ones), the held and the ignored.
 * A request with nothing to enqueue (Moralis' test webhook, a block of other tokens) is a 200.
 *
 * @module
 */
import type { Context } from "hono";
import type { HeldTransfer } from "../../../schema/held-transfer";
import type { DepositMessage } from "../../../schema/queue-message";
import { depositTxId } from "../../../schema/tx-id";
import { edgeVersion, enqueueAll } from "../../../shared/deposit-queue";
import { serviceUnavailable } from "../../../shared/http/errors";
import { scanJson } from "../../../shared/webhook/json-scan";
import { duplicateKeyFailure, invalidJson } from "../../../shared/webhook/payload";
import type { ConfiguredSource } from "../config";
import type { AppEnv } from "../env";
import { parseProviderPayload } from "../lib/provider-payload";
import { bodyDigest } from "../lib/signature";
import { sortTransfer } from "../lib/token-transfers";
import { admit, authenticate, jsonText, refuse, refusePayload, sendOnce } from "../lib/webhook-intake";

type Ctx = Context<AppEnv>;

/**
 * What identifies a provider delivery for the replay guard (./../lib/delivery-guard.ts): the
 * SHA-256 of its transfers as sorted, each with its block hash; the body's digest when a
 * transfer has no block hash to tell a re-inclusion from a repeat.
 */
async function deliveryKey(
	deposits: DepositMessage[],
	held: HeldTransfer[],
	digest: string,
): Promise<string> {
	const lines: string[] = [];
	for (const d of deposits) {
		const blockHash = d.metadata?.block_hash;
		if (typeof blockHash !== "string") return digest;
		lines.push(
			[
				d.chain,
				d.tx_hash,
				d.log_index,
				d.to_address,
				d.metadata?.raw_value,
				d.status,
				d.confirmations,
				d.block_number,
				blockHash,
			].join(" "),
		);
	}
	for (const h of held) {
		if (h.block_hash === null) return digest;
		lines.push(
			[
				"held",
				h.chain,
				h.tx_hash,
				h.log_index,
				h.to_address,
				h.raw_value,
				h.status,
				h.confirmations,
				h.block_number,
				h.block_hash,
			].join(" "),
		);
	}
	return bodyDigest(new TextEncoder().encode(lines.sort().join("\n")));
}

export async function providerWebhook(c: Ctx, source: ConfiguredSource) {
	c.set("source", source.name);
	const raw = new Uint8Array(await c.req.arrayBuffer());
	await authenticate(c, [source], source.scheme, raw);
	await admit(c, source);
	const text = jsonText(c, raw);
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		refusePayload(c, invalidJson(`the body is not valid JSON: ${(error as Error).message}`));
	}
	const { duplicate } = scanJson(text);
	if (duplicate) refusePayload(c, duplicateKeyFailure(duplicate));
	const payload = parseProviderPayload(json, source);
	if (!payload.ok) return refusePayload(c, payload);

	const digest = await bodyDigest(raw);
	const webhookId = `${source.name}:${payload.eventId ?? digest}`;
	const receivedAt = new Date().toISOString();
	const deposits: DepositMessage[] = [];
	const held: HeldTransfer[] = [];
	const ignored: { field: string; tx_hash: string | null; log_index?: number; reason: string }[] = (
		payload.others ?? []
	).map((o) => ({ field: o.field, tx_hash: o.txHash, reason: "foreign_token" }));
	const seen = new Map<string, { field: string; fingerprint: string }>();
	for (const transfer of payload.transfers) {
		const sorted = sortTransfer(source, transfer);
		if (sorted.kind === "ignored") {
			ignored.push({
				field: transfer.field,
				tx_hash: transfer.txHash,
				log_index: transfer.logIndex,
				reason: sorted.reason,
			});
			continue;
		}
		const txId = await depositTxId(transfer.chain, transfer.txHash, transfer.logIndex);
		// A provider listing one transfer twice: the same is harmless, a different one is refused.
		const fingerprint = `${transfer.to}:${transfer.rawValue}:${transfer.status}`;
		const earlier = seen.get(txId);
		if (earlier) {
			if (earlier.fingerprint === fingerprint) continue;
			refusePayload(c, {
				reason: "validation_failed",
				fields: [
					{
						path: transfer.field,
						message: `repeats the transfer of ${earlier.field} with another recipient, value or status`,
					},
				],
			});
		}
		seen.set(txId, { field: transfer.field, fingerprint });
		if (sorted.kind === "deposit") {
			deposits.push({
				v: 1,
				tx_id: txId,
				...sorted.deposit,
				webhook_id: webhookId,
				received_at: receivedAt,
				source: source.name,
				...edgeVersion(c.env),
			});
			continue;
		}
		held.push({
			v: 1,
			held: true,
			hold_reason: sorted.reason,
			hold_message: sorted.message,
			tx_id: txId,
			chain: transfer.chain,
			tx_hash: transfer.txHash,
			log_index: transfer.logIndex,
			amount: sorted.amount,
			raw_value: transfer.rawValue.toString(),
			decimals: source.tokens[transfer.chain].decimals,
			token: transfer.token,
			to_address: transfer.to,
			from_address: transfer.from,
			status: transfer.status,
			confirmations: transfer.confirmations,
			block_number: transfer.blockNumber,
			block_hash: transfer.details.block_hash ?? null,
			source: source.name,
			webhook_id: webhookId,
			received_at: receivedAt,
		});
	}

	// In the payload's order, whichever way each was found out.
	const position = (field: string) => Number(/(\d+)$/.exec(field)?.[1] ?? 0);
	ignored.sort((a, b) => position(a.field) - position(b.field));
	const chainOf = new Map(payload.transfers.map((t) => [t.field, t.chain]));
	c.set("transfers", {
		deposits: 0,
		held: 0,
		ignored: ignored.map((i) => ({ reason: i.reason, chain: chainOf.get(i.field) ?? "" })),
	});
	const answer = {
		ok: true as const,
		source: source.name,
		deposits: deposits.map((d) => ({
			tx_id: d.tx_id,
			chain: d.chain,
			tx_hash: d.tx_hash,
			log_index: d.log_index,
			amount: d.amount,
			to_address: d.to_address,
			status: d.status,
			confirmations: d.confirmations,
		})),
		held: held.map((h) => ({
			tx_id: h.tx_id,
			tx_hash: h.tx_hash,
			log_index: h.log_index,
			reason: h.hold_reason,
			message: h.hold_message,
		})),
		ignored,
	};
	if (deposits.length === 0 && held.length === 0) {
		return c.json(payload.test ? { ...answer, test: true as const } : answer, 200);
	}

	const outcome = await sendOnce(c, source, await deliveryKey(deposits, held, digest), async () => {
		// Held first: if the deposits' batch is then refused, the retry stores them once more (each
		// letter is visible, none credited), whereas no deposit is ever half-sent.
		if (held.length > 0 && !(await enqueueAll(c.env.DEAD_LETTERS, held))) return false;
		return enqueueAll(c.env.DEPOSITS, deposits);
	});
	if (outcome === "refused") {
		c.set("enqueueFailed", true);
		refuse(
			c,
			"queue_unavailable",
			serviceUnavailable("the deposit queue did not accept the webhook; nothing was recorded, retry later"),
		);
	}
	if (outcome === "duplicate") return c.json({ ...answer, duplicate: true as const }, 200);
	c.set("transfers", { ...c.get("transfers"), deposits: deposits.length, held: held.length });
	return c.json(answer, 202);
}
