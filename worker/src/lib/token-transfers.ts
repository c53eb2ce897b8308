/**
 * Token transfers reported by a chain-watching provider (Moralis, Alchemy), sorted into what the
 * ledger receives: a deposit, a transfer held for review, or one that is not a deposit at all.
 *
 * - **Not a deposit (ignored, counted, listed in the answer):** a transfer of another token than
 *   the chain's configured USDT contract (`foreign_token`, also native coin and NFT transfers); a
 *   transfer out of a watched address, or to or from one of the platform's own wallets
 *   (`outgoing`); a transfer of zero (`zero_amount`, the "address poisoning" kind).
 * - **Held for review:** an amount the ledger cannot hold exactly (more than 8 decimals, or more
 *   than 22 integer digits: `amount_precision`), or a payload whose token decimals disagree with
 *   the configured ones (`decimals_mismatch`, a wrong token configuration that would mis-scale every
 *   amount). Refusing the whole request instead would block every other deposit it carries,
 *   and a provider that keeps failing stops its stream; a sender of dust with 18 decimals could
 *   use that to stall everyone's deposits. So a held transfer goes to the dead letters
 *   (schema/held-transfer.ts) with its exact raw value, visible to admins, never credited
 *   until an operator acts, and the rest of the request is accepted.
 * - **A deposit:** the raw value converted exactly with the token's decimals
 *   (`fromBaseUnits`, no floats), into the queue message's fields.
 *
 * @module
 */
import type { Chain, DepositMessageV1 } from "../../../schema/queue-message";
import { canonicalAmount, fromBaseUnits } from "../../../shared/decimal";
import type { DepositFields } from "../../../shared/webhook/payload";
import type { WebhookSource } from "./webhook-sources";

/** One token transfer as a provider reports it, already checked for shape. */
export interface TokenTransfer {
	/** Where it is in the payload, e.g. "erc20Transfers[2]". */
	field: string;
	chain: Chain;
	txHash: string;
	logIndex: number;
	/** Token contract, lower case. */
	token: string;
	from: string;
	to: string;
	/** The transfer's value in the token's base units. */
	rawValue: bigint;
	/** The token decimals the payload states, if it does. */
	decimals: number | null;
	/** Whether the provider names `to` as a watched address; null when it does not say. */
	toWatched: boolean | null;
	status: DepositMessageV1["status"];
	/** null when the provider gives no count (a removal). */
	confirmations: number | null;
	blockNumber: string | null;
	/** Provider facts kept with the deposit (stream id, block hash, …). */
	details: Record<string, string>;
}

type IgnoreReason = "foreign_token" | "outgoing" | "zero_amount";
export type HoldReason = "amount_precision" | "decimals_mismatch";

type SortedTransfer =
	| { kind: "deposit"; transfer: TokenTransfer; deposit: DepositFields }
	| { kind: "held"; transfer: TokenTransfer; reason: HoldReason; message: string; amount: string }
	| { kind: "ignored"; transfer: TokenTransfer; reason: IgnoreReason };

/** Sorts one transfer for `source` (see the module's rules). */
export function sortTransfer(source: WebhookSource, transfer: TokenTransfer): SortedTransfer {
	const token = source.tokens[transfer.chain];
	if (transfer.token !== token.contract) return { kind: "ignored", transfer, reason: "foreign_token" };
	if (
		transfer.toWatched === false ||
		source.ownAddresses.has(transfer.to) ||
		source.ownAddresses.has(transfer.from)
	) {
		return { kind: "ignored", transfer, reason: "outgoing" };
	}
	if (transfer.rawValue === 0n) return { kind: "ignored", transfer, reason: "zero_amount" };
	const amount = fromBaseUnits(transfer.rawValue, token.decimals);
	if (transfer.decimals !== null && transfer.decimals !== token.decimals) {
		return {
			kind: "held",
			transfer,
			reason: "decimals_mismatch",
			amount,
			message: `the payload says the token has ${transfer.decimals} decimals; the configuration says ${token.decimals}`,
		};
	}
	const exact = canonicalAmount(amount);
	if (!exact.ok) {
		return {
			kind: "held",
			transfer,
			reason: "amount_precision",
			amount,
			message: `the amount ${amount} ${exact.message}`,
		};
	}
	return {
		kind: "deposit",
		transfer,
		deposit: {
			chain: transfer.chain,
			tx_hash: transfer.txHash,
			log_index: transfer.logIndex,
			amount: exact.value,
			currency: "USDT",
			confirmations: transfer.confirmations,
			status: transfer.status,
			to_address: transfer.to,
			user_id: null,
			block_number: transfer.blockNumber,
			metadata: {
				source: source.name,
				from: transfer.from,
				token: transfer.token,
				raw_value: transfer.rawValue.toString(),
				...transfer.details,
			},
		},
	};
}
