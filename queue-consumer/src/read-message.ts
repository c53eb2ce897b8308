/**
 * Turns a queue message body into what settlement needs, or into the reason it can never be
 * settled. A body is settled only if it satisfies the versioned contract and its `tx_id` is
 * the one its key gives (UUIDv5 of chain, normalised hash, log index): a deposit's id and its
 * key must never disagree, or one deposit could be stored twice.
 *
 * @module
 */

import { type DepositMessage, parseDepositMessage } from "../../schema/queue-message";
import { depositTxId, normaliseTxHash } from "../../schema/tx-id";
import * as z from "../../schema/zod";
import type { ConsumerConfig } from "./config";
import type { SettleRow } from "./settle-sql";

type ReadMessage =
	| { ok: true; message: DepositMessage; row: Omit<SettleRow, "i" | "message_id" | "attempts"> }
	| { ok: false; reason: string; txId: string | null };

const uuidShape = z.uuid();

/** The body's `tx_id` when it has a usable one, so a dead letter can be found by it. */
export function claimedTxId(body: unknown): string | null {
	const txId = (body as { tx_id?: unknown } | null)?.tx_id;
	return uuidShape.safeParse(txId).success ? (txId as string) : null;
}

/** Validates one body; never throws. */
export async function readMessage(body: unknown, config: ConsumerConfig): Promise<ReadMessage> {
	const parsed = parseDepositMessage(body);
	if (!parsed.success) {
		return {
			ok: false,
			reason: `invalid queue message (contract v1):\n${z.prettifyError(parsed.error)}`,
			txId: claimedTxId(body),
		};
	}
	const message = parsed.data;
	const txHash = normaliseTxHash(message.tx_hash);
	const expected = await depositTxId(message.chain, txHash, message.log_index);
	if (expected !== message.tx_id) {
		return {
			ok: false,
			reason: `tx_id ${message.tx_id} does not match its key ${message.chain}:${txHash}:${message.log_index} (expected ${expected})`,
			txId: message.tx_id,
		};
	}
	return { ok: true, message, row: settleRow(message, config) };
}

/**
 * A valid message as the settlement SQL reads it (without its place in the batch), with the
 * chain's threshold and the wallets' currency from the configuration.
 */
export function settleRow(
	message: DepositMessage,
	config: ConsumerConfig,
): Omit<SettleRow, "i" | "message_id" | "attempts"> {
	return {
		tx_id: message.tx_id,
		chain: message.chain,
		tx_hash: normaliseTxHash(message.tx_hash),
		log_index: message.log_index,
		amount: message.amount,
		currency: message.currency,
		confirmations: message.confirmations,
		status: message.status,
		to_address: message.to_address,
		user_id: message.user_id,
		block_number: message.block_number,
		metadata: message.metadata,
		webhook_id: message.webhook_id,
		threshold: config.thresholds[message.chain],
		wallet_currency: config.walletCurrency,
		sender_finality: config.senderFinality.has(message.chain),
	};
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * A copy of a value that Postgres's `jsonb` accepts: NUL characters and lone surrogates become
 * U+FFFD, and what JSON cannot express is described instead. Used for dead letters, which
 * must be storable whatever arrived.
 */
export function storableJson(value: unknown): unknown {
	if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) {
		const bytes =
			value instanceof ArrayBuffer
				? new Uint8Array(value)
				: new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
		return { bytes_base64: btoa(String.fromCharCode(...bytes.subarray(0, 65_536))) };
	}
	let text: string | undefined;
	try {
		text = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? v.toString() : v));
	} catch (error) {
		return { unserializable: String(error) };
	}
	if (text === undefined) return { unserializable: typeof value };
	return cleanStrings(JSON.parse(text));
}

/** `value` with NUL characters and lone surrogates in its strings (and keys) replaced. */
export function cleanStrings(value: unknown): unknown {
	if (typeof value === "string") return value.replace(/\0/g, "\uFFFD").replace(LONE_SURROGATE, "\uFFFD");
	if (Array.isArray(value)) return value.map(cleanStrings);
	if (value && typeof value === "object") {
		return Object.fromEntries(
			Object.entries(value).map(([k, v]) => [cleanStrings(k) as string, cleanStrings(v)]),
		);
	}
	return value;
}
