/**
 * A transfer the edge Worker holds for review instead of enqueueing it as a deposit: a provider
 * reported it, but the ledger cannot hold its amount exactly (more than 8 decimals) or the
 * payload's token decimals disagree with the configured ones. The edge sends it to the deposit
 * queue's dead-letter queue, whose consumer stores it in `dead_letters` with
 * {@link heldTransferReason} as its reason: visible to admins, never credited by itself. Its
 * `amount` is the exact decimal the raw value and the token's decimals give, unrounded, so the
 * letter cannot be redriven as it is (it fails the deposit contract) and an operator decides.
 *
 * @module
 */
import type { Chain } from "./queue-message";

const HOLD_REASONS = ["amount_precision", "decimals_mismatch"] as const;
export type HoldReason = (typeof HOLD_REASONS)[number];

export interface HeldTransfer {
	v: 1;
	held: true;
	hold_reason: HoldReason;
	/** What is wrong, for the admin reading the letter. */
	hold_message: string;
	/** The deposit's id had it been accepted (UUIDv5 of chain, tx_hash, log_index). */
	tx_id: string;
	chain: Chain;
	tx_hash: string;
	log_index: number;
	/** The exact amount of the token (unbounded decimals). */
	amount: string;
	/** The transfer's value in base units, as decimal digits. */
	raw_value: string;
	decimals: number;
	token: string;
	to_address: string;
	from_address: string;
	status: "pending" | "confirmed" | "removed";
	confirmations: number | null;
	block_number: string | null;
	/** The block's hash as the provider reported it, if it did. */
	block_hash: string | null;
	source: string;
	webhook_id: string;
	received_at: string;
}

/** The dead letter's reason for a held transfer's body, or null for any other body. */
export function heldTransferReason(body: unknown): string | null {
	const b = body as Partial<HeldTransfer> | null;
	if (b?.held !== true || !(HOLD_REASONS as readonly string[]).includes(String(b.hold_reason))) return null;
	return `held at the edge for review (${b.hold_reason}): ${String(b.hold_message ?? "").slice(0, 500)}; received from ${String(b.source ?? "?")}, never credited until an operator acts`;
}
