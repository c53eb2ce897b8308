/**
 * An Alchemy Notify "Address Activity" webhook body, as Alchemy documents it
 * (https://www.alchemy.com/docs/reference/address-activity-webhook): `webhookId`, `id` (the
 * event), `type: "ADDRESS_ACTIVITY"` and `event {network, activity[]}`. A token transfer in
 * `activity[]` has `category` "token" (or "erc20"), `hash`, `fromAddress`, `toAddress`,
 * `blockNum` (hex), `rawContract {rawValue (hex base units), address, decimals}` and its `log`
 * (`logIndex` in hex, `removed` when a reorg took the block away). `value` is the amount as a
 * float and is never read.
 *
 * Mapped to deposits: a mined transfer → `pending` with 1 confirmation (Alchemy reports a
 * transfer once, when mined, and never its finality: the deposit is credited once its
 * confirmations are seen, by a later report or on chain); `log.removed: true` → `removed`.
 * Native coin (`external`, `internal`) and NFT activity is not a USDT transfer: ignored.
 *
 * @module
 */
import * as z from "../../../schema/zod";
import { blockNumber, evmAddress, hexQuantity, MAX_TRANSFERS, storableText, txHash } from "./provider-fields";
import type { ProviderPayload } from "./provider-payload";
import { enabledNetwork, schemaRefusal } from "./provider-refusals";
import type { TokenTransfer } from "./token-transfers";
import type { WebhookSource } from "./webhook-sources";

const TOKEN_CATEGORIES = new Set(["token", "erc20"]);

const tokenActivity = z.looseObject({
	hash: txHash,
	fromAddress: evmAddress,
	toAddress: evmAddress,
	blockNum: z.optional(blockNumber),
	rawContract: z.looseObject({
		// A uint256 is at most 64 hex digits.
		rawValue: hexQuantity(64),
		address: evmAddress,
		decimals: z.nullish(z.number().check(z.int(), z.gte(0), z.lte(255))),
		decimal: z.nullish(hexQuantity(2)),
	}),
	log: z.looseObject({
		logIndex: hexQuantity(8).check(z.refine((n) => n <= 2_147_483_647n, "is larger than a log index can be")),
		removed: z._default(z.boolean(), false),
		blockHash: z.optional(txHash),
	}),
});

const bodySchema = z.looseObject({
	id: z.optional(storableText(128)),
	webhookId: z.optional(storableText(128)),
	type: z.literal("ADDRESS_ACTIVITY", {
		error: "must be ADDRESS_ACTIVITY: this route takes Address Activity webhooks",
	}),
	event: z.looseObject({
		network: z.string({ error: "must be the network name, e.g. ETH_MAINNET" }).check(z.maxLength(64)),
		activity: z
			.array(
				z.looseObject({
					category: z.optional(z.string().check(z.maxLength(32))),
					hash: z.optional(z.string().check(z.maxLength(130))),
				}),
			)
			.check(z.maxLength(MAX_TRANSFERS, `holds more than ${MAX_TRANSFERS} transfers`)),
	}),
});

/** Reads a parsed Alchemy body into token transfers for `source`. */
export function parseAlchemyPayload(json: unknown, source: WebhookSource): ProviderPayload {
	const parsed = bodySchema.safeParse(json);
	if (!parsed.success) return schemaRefusal(parsed.error);
	const { event } = parsed.data;
	const enabled = enabledNetwork(source, event.network, {
		path: "event.network",
		kind: "network",
		mapIn: "networks",
	});
	if ("refusal" in enabled) return enabled.refusal;
	const { network } = enabled;
	const transfers: TokenTransfer[] = [];
	const others: { field: string; txHash: string | null }[] = [];
	for (const [i, item] of event.activity.entries()) {
		const field = `event.activity.${i}`;
		if (!TOKEN_CATEGORIES.has(item.category ?? "")) {
			others.push({ field, txHash: typeof item.hash === "string" ? item.hash.toLowerCase() : null });
			continue;
		}
		const activity = tokenActivity.safeParse(item);
		if (!activity.success) return schemaRefusal(activity.error, field);
		const a = activity.data;
		const stated = a.rawContract.decimals ?? a.rawContract.decimal;
		transfers.push({
			field,
			chain: network.chain,
			txHash: a.hash,
			logIndex: Number(a.log.logIndex),
			token: a.rawContract.address,
			from: a.fromAddress,
			to: a.toAddress,
			rawValue: a.rawContract.rawValue,
			decimals: stated === undefined || stated === null ? null : Number(stated),
			toWatched: null,
			status: a.log.removed ? "removed" : "pending",
			confirmations: a.log.removed ? null : 1,
			blockNumber: a.blockNum ?? null,
			details: {
				provider: "alchemy",
				...(parsed.data.webhookId ? { webhook: parsed.data.webhookId } : {}),
				...(parsed.data.id ? { event_id: parsed.data.id } : {}),
				...(a.log.blockHash ? { block_hash: a.log.blockHash } : {}),
			},
		});
	}
	return { ok: true, test: false, transfers, others, eventId: parsed.data.id ?? null };
}
