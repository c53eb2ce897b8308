/**
 * The verification stage of a batch: before anything is settled, every deposit of a chain in
 * `chain` mode is looked up on that chain (chain/verify-transfers.ts: one batched request per
 * chain), against the address that attribution will use, and the chain's answer is given to
 * the caller, which decides what becomes of the message (settle.ts for webhooks, recheck.ts
 * for the schedule). Settlement itself (settle-sql.ts) never sees a claim the chain
 * contradicts.
 *
 * Which address a claim must pay (what settlement would attribute the deposit by):
 * - a deposit parked as unmatched: its stored address (an admin's assignment names a player
 *   who, by definition, holds no such address);
 * - the player it is attributed to by user (the deposit's user, else the message's existing
 *   `user_id`): one of that player's deposit addresses of the chain's family;
 * - else the deposit's stored address, else the message's `to_address`;
 * - else (no address, no user) the chain's own recipient, which then becomes the deposit's
 *   address and is attributed as such (a recipient nobody holds is parked as unmatched).
 *
 * @module
 */
import { CHAIN_FAMILY, type ChainVerificationConfig } from "./chain/chain-config";
import type { ChainRpcError } from "./chain/rpc-error";
import { type ChainVerdict, comparableAddress, type TransferClaim } from "./chain/verdict";
import { verifyTransfers } from "./chain/verify-transfers";
import { type ChainCheckRow, type ClaimContext, type HoldRow, READ_CLAIM_CONTEXT } from "./chain-sql";
import type { SettleRow } from "./settle-sql";
import type { Sql } from "./settle-transaction";

/** What the chain said about one row, in the row's order. */
export type ChainCheck =
	/** The row's chain trusts senders, or there is nothing the chain could add (see below). */
	| { status: "trusted" }
	| {
			status: "verified";
			verdict: ChainVerdict;
			/** True when the transfer is what the row says (the chain's recipient was accepted where none was claimed). */
			matches: boolean;
			claim: TransferClaim;
			/** The ledger's deposit as it stood before the batch (status null: none yet). */
			stored: ClaimContext;
	  }
	| { status: "unavailable"; error: ChainRpcError }
	/** The row disagrees with its stored deposit (amount, currency), or no message moves the deposit (DROPPED): settlement records it as it is. */
	| { status: "not_asked"; stored: ClaimContext };

/**
 * States no message moves (dropped, or held for review and only moved by the review): nothing
 * to ask the chain.
 */
const DROPPED = new Set(["reverted", "reversed", "held", "rejected"]);

/**
 * Verifies `rows` on their chains. One read round trip to the database (what the ledger holds
 * for them), then one round of requests per chain in `chain` mode; nothing for a batch whose
 * chains all trust senders.
 *
 * @throws the database driver's error when the read fails (the caller retries the batch).
 */
export async function checkOnChain(
	sql: Sql,
	config: ChainVerificationConfig | undefined,
	rows: readonly SettleRow[],
	timeoutMs: number,
): Promise<ChainCheck[]> {
	const checks: ChainCheck[] = rows.map(() => ({ status: "trusted" }));
	if (!config) return checks;
	const asked = rows.flatMap((row, k) =>
		config.chains[row.chain as keyof typeof config.chains]?.mode === "chain" ? [k] : [],
	);
	if (!asked.length) return checks;

	const context = await readClaimContext(
		sql,
		asked.map((k) => rows[k]!),
		timeoutMs,
	);
	const claims: TransferClaim[] = [];
	/** Per claim: no address and no user, so the chain's recipient is taken as the deposit's. */
	const openRecipient: boolean[] = [];
	const claimed: number[] = [];
	for (const k of asked) {
		const row = rows[k]!;
		const stored = context.get(row.tx_id)!;
		if (
			(stored.status !== null && DROPPED.has(stored.status)) ||
			(stored.amount !== null && !sameAmount(stored.amount, row.amount)) ||
			(stored.currency !== null && stored.currency !== row.currency)
		) {
			checks[k] = { status: "not_asked", stored };
			continue;
		}
		const { claim, open } = claimFor(row, stored);
		claims.push(claim);
		openRecipient.push(open);
		claimed.push(k);
	}
	const results = await verifyTransfers(config, claims);
	results.forEach((result, n) => {
		const k = claimed[n]!;
		const claim = claims[n]!;
		const stored = context.get(rows[k]!.tx_id)!;
		if (result.status !== "verified") {
			checks[k] = result.status === "trusted" ? { status: "trusted" } : result;
			return;
		}
		checks[k] = {
			status: "verified",
			verdict: result.verdict,
			matches: matches(result.verdict, openRecipient[n]!),
			claim,
			stored,
		};
	});
	return checks;
}

async function readClaimContext(
	sql: Sql,
	rows: readonly SettleRow[],
	timeoutMs: number,
): Promise<Map<string, ClaimContext>> {
	const keys = rows.map((r) => ({ tx_id: r.tx_id, chain: r.chain, user_id: r.user_id }));
	const result = (await sql.query(READ_CLAIM_CONTEXT, [JSON.stringify(keys)], {
		fetchOptions: { signal: AbortSignal.timeout(timeoutMs) },
	})) as ClaimContext[];
	return new Map(result.map((c) => [c.tx_id, c]));
}

/** Two exact decimal strings name the same amount ("25.5" and "25.50000000"). */
function sameAmount(a: string, b: string): boolean {
	const norm = (v: string) => {
		const [whole = "0", fraction = ""] = v.trim().split(".");
		return `${whole.replace(/^0+(?=\d)/, "")}.${fraction.replace(/0+$/, "")}`;
	};
	return norm(a) === norm(b);
}

/**
 * The claim for one row, paying the address its attribution would use (module comment);
 * `open` when nothing names an address or a player, so the chain's recipient is accepted.
 * A player named but holding no address of the family gets no recipient at all: nothing the
 * chain says can match, and the deposit is held.
 */
function claimFor(row: SettleRow, stored: ClaimContext): { claim: TransferClaim; open: boolean } {
	const address = stored.to_address ?? row.to_address;
	let recipients: string[];
	if (stored.status === "unmatched" && stored.to_address) {
		// Parked for an admin to assign to a player (who holds no such address, by definition).
		recipients = [stored.to_address];
	} else if (stored.owner) {
		recipients = stored.owner_addresses;
	} else {
		recipients = address === null ? [] : [address];
	}
	return {
		claim: {
			chain: row.chain as TransferClaim["chain"],
			txHash: row.tx_hash,
			logIndex: row.log_index,
			recipients,
			amount: row.amount,
			blockNumber: stored.block_number ?? row.block_number,
		},
		open: !stored.owner && address === null,
	};
}

/**
 * The transfer is what the claim says. An `open` claim (no address, no player) accepts the
 * chain's recipient: the only difference the verdict may then report is the recipient, with
 * the amount matching.
 */
function matches(verdict: ChainVerdict, open: boolean): boolean {
	if (verdict.mismatch === null) return true;
	return open && verdict.mismatch === "other_recipient" && verdict.amountMatches;
}

/**
 * The row as the chain confirms it: the chain's confirmations, block and recipient replace
 * the sender's. Only for a check that `matches`.
 */
export function confirmedRow(row: SettleRow, verdict: ChainVerdict): SettleRow {
	const family = CHAIN_FAMILY[row.chain as keyof typeof CHAIN_FAMILY];
	return {
		...row,
		confirmations: verdict.confirmations,
		block_number: verdict.blockNumber,
		to_address: verdict.transfer ? comparableAddress(family, verdict.transfer.to) : row.to_address,
		status: row.status === "removed" ? "pending" : row.status,
	};
}

/** What becomes of one message once the chain has answered. */
type ChainDecision =
	/** Settle this row (the chain's figures where it was verified) and keep its block. */
	| { kind: "settle"; row: SettleRow; block: ChainCheckRow | null }
	/** Never credited: held for review with what the chain says. */
	| { kind: "hold"; hold: HoldRow }
	/** Nothing decided: retry the message. */
	| { kind: "retry"; error: ChainRpcError };

/**
 * Decides a webhook's message from its check. A match settles with the chain's figures; a
 * mismatch is held. A `removed` message is the chain's to confirm: while the transfer is still
 * where the ledger saw it, the removal is ignored (the row settles as a confirmation); when the
 * chain no longer has it there, the removal goes ahead.
 */
export function decideWebhook(row: SettleRow, check: ChainCheck): ChainDecision {
	switch (check.status) {
		case "trusted":
		case "not_asked":
			return { kind: "settle", row, block: null };
		case "unavailable":
			return { kind: "retry", error: check.error };
		case "verified": {
			const { verdict, stored } = check;
			const sameBlock = stored.block_hash === null || stored.block_hash === verdict.blockHash;
			if (row.status === "removed") {
				if (check.matches && sameBlock) return settleConfirmed(row, verdict);
				return { kind: "settle", row, block: null };
			}
			if (check.matches) return settleConfirmed(row, verdict);
			return { kind: "hold", hold: holdRow(row, check) };
		}
	}
}

function settleConfirmed(row: SettleRow, verdict: ChainVerdict): ChainDecision {
	return {
		kind: "settle",
		row: confirmedRow(row, verdict),
		block:
			verdict.blockNumber && verdict.blockHash
				? { tx_id: row.tx_id, block_number: verdict.blockNumber, block_hash: verdict.blockHash }
				: null,
	};
}

/** The held deposit for a row the chain contradicts: what was claimed beside what the chain says. */
export function holdRow(row: SettleRow, check: Extract<ChainCheck, { status: "verified" }>): HoldRow {
	return {
		i: row.i,
		tx_id: row.tx_id,
		chain: row.chain,
		tx_hash: row.tx_hash,
		log_index: row.log_index,
		amount: row.amount,
		currency: row.currency,
		webhook_id: row.webhook_id,
		metadata: row.metadata,
		threshold: row.threshold,
		reason: "chain_mismatch",
		detail: {
			mismatch: check.verdict.mismatch,
			detail: check.verdict.detail,
			claimed: {
				amount: row.amount,
				to_address: row.to_address,
				user_id: row.user_id,
				recipients: check.claim.recipients,
				block_number: row.block_number,
				confirmations: row.confirmations,
				status: row.status,
				webhook_id: row.webhook_id,
				message_id: row.message_id,
			},
			chain: check.verdict,
		},
	};
}
