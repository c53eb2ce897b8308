/**
 * The SQL of on-chain verification, apart from the settlement rules (settle-sql.ts):
 *
 * - {@link READ_CLAIM_CONTEXT}: before a batch is verified, what the ledger already holds for
 *   its deposits (address, owner, block) and the owner's platform addresses, so each claim is
 *   checked against the address that attribution will actually use;
 * - {@link HOLD_DEPOSITS}: the deposits the chain contradicts, stored `held` for review;
 * - {@link RECORD_CHAIN_CHECKS}: the block number and hash the chain gave, and when;
 * - {@link RECHECK_CANDIDATES}: what the scheduled re-check looks at.
 *
 * HOLD_DEPOSITS and RECORD_CHAIN_CHECKS run in the settlement transaction, after its
 * statements (settle-transaction.ts): every deposit RECORD_CHAIN_CHECKS writes is then already
 * locked by this transaction, and HOLD_DEPOSITS takes its own locks in key order.
 *
 * @module
 */
import { familyOfChainSql } from "../../schema/address-family";

/** What the ledger holds for one deposit of a batch, as READ_CLAIM_CONTEXT returns it. */
export interface ClaimContext {
	tx_id: string;
	/** NULL when the ledger has no such deposit yet. */
	status: string | null;
	to_address: string | null;
	amount: string | null;
	currency: string | null;
	block_number: string | null;
	block_hash: string | null;
	/**
	 * The player the deposit is attributed to by user: the deposit's own user, else the
	 * message's `user_id` when it names an existing user (settlement attributes in that order).
	 */
	owner: string | null;
	/** The owner's addresses of the chain's family (its deposit addresses), stored form. */
	owner_addresses: string[];
}

/**
 * `$1`: JSON array of `{tx_id, chain, user_id}`. One row per element, in any order.
 * Read-only; its own round trip, before the chain is asked.
 */
export const READ_CLAIM_CONTEXT = `
SELECT m.tx_id::text AS tx_id, d.status::text AS status, d.to_address, d.amount::text AS amount,
	d.currency, d.block_number::text AS block_number, d.block_hash, u.id::text AS owner,
	COALESCE((
		SELECT jsonb_agg(a.address ORDER BY a.address) FROM deposit_addresses a
		WHERE a.user_id = u.id AND a.family = ${familyOfChainSql("m.chain")}
	), '[]'::jsonb) AS owner_addresses
FROM jsonb_to_recordset($1::jsonb) AS m(tx_id uuid, chain text, user_id uuid)
LEFT JOIN deposits d ON d.id = m.tx_id
LEFT JOIN users u ON u.id = COALESCE(d.user_id, m.user_id)`;

/** One deposit the chain contradicts (HOLD_DEPOSITS). */
export interface HoldRow {
	/** Position of the message in the batch (several messages may hold one deposit). */
	i: number;
	tx_id: string;
	chain: string;
	tx_hash: string;
	log_index: number;
	amount: string;
	currency: string;
	webhook_id: string;
	metadata: Record<string, unknown> | null;
	threshold: number;
	reason: "chain_mismatch";
	/** What the message claimed and what the chain says (verdict), for the reviewer. */
	detail: Record<string, unknown>;
}

/**
 * `$1`: JSON array of {@link HoldRow}. A deposit the ledger does not have is inserted `held`;
 * one that is `pending` or `unmatched` and agrees with the message (amount, currency) becomes
 * `held`. Anything else is left as it is: a credited deposit is never held by a message (a
 * reorg after credit is the re-check's to find, and takes the reversal path), and a message
 * that disagrees with the deposit is no evidence against it.
 *
 * A held row carries no address and no user: what the message claimed is in `hold_detail`
 * only, so a forged message can never decide whom a later, verified delivery credits.
 */
export const HOLD_DEPOSITS = `
INSERT INTO deposits AS d (id, chain, tx_hash, log_index, amount, currency, status, confirmations,
	required_confirmations, webhook_id, metadata, hold_reason, hold_detail, chain_checked_at)
SELECT h.tx_id, h.chain, h.tx_hash, h.log_index, h.amount, h.currency, 'held', NULL, h.threshold,
	h.webhook_id, h.metadata, h.reason, h.detail, now()
FROM (
	SELECT DISTINCT ON (r.tx_id) r.*
	FROM jsonb_to_recordset($1::jsonb) AS r(i int, tx_id uuid, chain text, tx_hash text, log_index int,
		amount numeric, currency text, webhook_id text, metadata jsonb, threshold int, reason text, detail jsonb)
	ORDER BY r.tx_id, r.i
) h
ORDER BY h.chain, h.tx_hash, h.log_index
ON CONFLICT (id) DO UPDATE SET status = 'held', hold_reason = EXCLUDED.hold_reason,
	hold_detail = EXCLUDED.hold_detail, chain_checked_at = now(), updated_at = now()
WHERE d.status IN ('pending', 'unmatched') AND d.amount = EXCLUDED.amount AND d.currency = EXCLUDED.currency`;

/** The block the chain placed a verified transfer in (RECORD_CHAIN_CHECKS). */
export interface ChainCheckRow {
	tx_id: string;
	block_number: string;
	block_hash: string;
}

/**
 * `$1`: JSON array of {@link ChainCheckRow}. Keeps the block and its hash on each deposit the
 * chain confirmed (a later change of hash is a reorg), and the time of the check. A deposit
 * dropped or reversed in the same transaction keeps what it had.
 */
export const RECORD_CHAIN_CHECKS = `
UPDATE deposits d SET block_number = c.block_number, block_hash = c.block_hash, chain_checked_at = now()
FROM (
	SELECT DISTINCT ON (r.tx_id) r.*
	FROM jsonb_to_recordset($1::jsonb) AS r(tx_id uuid, block_number bigint, block_hash text)
	ORDER BY r.tx_id
) c
WHERE d.id = c.tx_id AND d.status NOT IN ('reverted', 'reversed')`;

/** Hours after its credit during which a deposit may still be re-checked for a reorg. */
const CREDITED_RECHECK_HOURS = 1;

/** A deposit the scheduled re-check looks at (RECHECK_CANDIDATES). */
export interface RecheckCandidate {
	tx_id: string;
	chain: string;
	tx_hash: string;
	log_index: number;
	amount: string;
	currency: string;
	status: "pending" | "credited";
	confirmations: number | null;
	to_address: string | null;
	user_id: string | null;
	block_number: string | null;
	block_hash: string | null;
}

/**
 * `$1`: JSON array of `{chain, reorg_window}` (the chains in `chain` mode), `$2`: how many.
 * Pending deposits (until final), and credited ones whose confirmations, as last seen on
 * chain, are still inside the chain's reorg window; the least recently checked first. A credit
 * older than {@link CREDITED_RECHECK_HOURS} is past any chain's window whatever its count says
 * (the bound keeps the scan to recent credits). None while settlement is paused.
 */
export const RECHECK_CANDIDATES = `
SELECT d.id::text AS tx_id, d.chain, d.tx_hash, d.log_index, d.amount::text AS amount, d.currency,
	d.status::text AS status, d.confirmations, d.to_address, d.user_id::text AS user_id,
	d.block_number::text AS block_number, d.block_hash
FROM deposits d
JOIN jsonb_to_recordset($1::jsonb) AS c(chain text, reorg_window int) ON c.chain = d.chain
WHERE (d.status = 'pending'
	OR (d.status = 'credited' AND COALESCE(d.confirmations, 0) < c.reorg_window
		AND d.credited_at > now() - interval '${CREDITED_RECHECK_HOURS} hours'))
	-- While settlement is paused the re-check credits and reverses nothing (settlement-pause.ts).
	AND NOT EXISTS (SELECT 1 FROM settlement_pause)
ORDER BY d.chain_checked_at NULLS FIRST, d.id
LIMIT $2`;
