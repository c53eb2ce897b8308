/**
 * A Moralis Streams webhook body (EVM), as Moralis documents it: `confirmed`, `chainId` (hex),
 * `streamId`, `tag`, `block {number, hash, timestamp}` and the decoded `erc20Transfers[]`, each
 * with `transactionHash`, `logIndex`, `contract`, `from`, `to`, `value` (base units, as digits),
 * `tokenDecimals` and `triggered_by` (the stream's addresses the transfer matched)
 * (https://docs.moralis.com/streams/webhooks/webhook-payloads; the field list of the Streams
 * API's webhook model). Moralis writes every number as a string.
 *
 * Mapped to deposits:
 * - `confirmed: false` (sent when the block is mined) → `pending` with 1 confirmation;
 *   `confirmed: true` (sent once the chain's "blocks until confirmed" have passed) → `confirmed`
 *   with that many confirmations (18 on BSC, 12 on Ethereum). The two may arrive in either
 *   order: confirmations only grow at settlement.
 * - A transfer whose `to` is not among its `triggered_by` left a watched address: `outgoing`.
 * - The mandatory test webhook, sent when a stream is created or updated, has an empty `chainId`
 *   and nothing in it (https://docs.moralis.com/streams/quickstart/receive-your-first-webhook):
 *   it is answered 200 and enqueues nothing. It is signed like every other delivery.
 *
 * @module
 */
import * as z from "../../../schema/zod";
import {
	blockNumber,
	decimalDigits,
	evmAddress,
	MAX_TRANSFERS,
	smallInteger,
	storableText,
	txHash,
} from "./provider-fields";
import type { ProviderPayload } from "./provider-payload";
import { enabledNetwork, schemaRefusal } from "./provider-refusals";
import type { TokenTransfer } from "./token-transfers";
import type { WebhookSource } from "./webhook-sources";

const transferSchema = z.looseObject({
	transactionHash: txHash,
	logIndex: smallInteger,
	contract: evmAddress,
	from: evmAddress,
	to: evmAddress,
	// A uint256 has at most 78 decimal digits.
	value: z.pipe(
		decimalDigits(78),
		z.transform((v: string) => BigInt(v)),
	),
	tokenDecimals: z.optional(
		z.union([z.pipe(decimalDigits(2), z.transform(Number)), z.literal(""), z.null()]),
	),
	triggered_by: z.optional(z.array(evmAddress).check(z.maxLength(MAX_TRANSFERS))),
});

const bodySchema = z.looseObject({
	confirmed: z.boolean({ error: "must be true or false" }),
	chainId: z.string({ error: "must be the chain id as a hex string, e.g. 0x38" }).check(z.maxLength(20)),
	streamId: z.optional(storableText(128)),
	tag: z.optional(storableText(256)),
	block: z.optional(
		z.looseObject({
			number: z.optional(z.union([blockNumber, z.literal("")])),
			hash: z.optional(z.union([txHash, z.literal("")])),
		}),
	),
	erc20Transfers: z._default(
		z.array(transferSchema).check(z.maxLength(MAX_TRANSFERS, `holds more than ${MAX_TRANSFERS} transfers`)),
		[],
	),
});

/** Reads a parsed Moralis body into token transfers for `source`. */
export function parseMoralisPayload(json: unknown, source: WebhookSource): ProviderPayload {
	const parsed = bodySchema.safeParse(json);
	if (!parsed.success) return schemaRefusal(parsed.error);
	const body = parsed.data;
	if (body.erc20Transfers.length === 0) return { ok: true, test: body.chainId === "", transfers: [] };
	const enabled = enabledNetwork(source, body.chainId.toLowerCase(), {
		path: "chainId",
		kind: "chain",
		mapIn: "chain_ids",
	});
	if ("refusal" in enabled) return enabled.refusal;
	const { network } = enabled;
	const details: Record<string, string> = { provider: "moralis" };
	if (body.streamId) details.stream_id = body.streamId;
	if (body.tag) details.tag = body.tag;
	if (body.block?.hash) details.block_hash = body.block.hash;
	const transfers = body.erc20Transfers.map(
		(t, i): TokenTransfer => ({
			field: `erc20Transfers.${i}`,
			chain: network.chain,
			txHash: t.transactionHash,
			logIndex: t.logIndex,
			token: t.contract,
			from: t.from,
			to: t.to,
			rawValue: t.value,
			decimals: typeof t.tokenDecimals === "number" ? t.tokenDecimals : null,
			toWatched: t.triggered_by ? t.triggered_by.includes(t.to) : null,
			status: body.confirmed ? "confirmed" : "pending",
			confirmations: body.confirmed ? network.confirmedAt : 1,
			blockNumber: body.block?.number || null,
			details,
		}),
	);
	return { ok: true, test: false, transfers };
}
