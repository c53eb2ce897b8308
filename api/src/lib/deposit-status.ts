/**
 * Where one deposit stands, as `GET /api/v1/transactions/:tx_id` reports it: `pending` (with
 * confirmations and the chain's threshold), `credited`, `unmatched`, `reverted`, `reversed`,
 * `held` (kept for an admin's review, `hold_reason` saying why; docs/deposit-states.md),
 * `rejected` (refused by that review, never credited),
 * `conflict` (the deposit and its unresolved conflicting deliveries, both reported) or
 * `dead_lettered` (no deposit row, but a dead letter that carries this tx_id).
 *
 * Visibility: an admin sees everything. A player sees a deposit attributed to them (not while
 * it is unmatched), and a dead letter whose body names them or one of their deposit addresses.
 * Everything else is "not found", whether it exists or not.
 *
 * @module
 */
import { addressMatchSql } from "../../../schema/address-family";
import type { DepositState } from "../../../schema/deposit-states";
import type { Role } from "./access-token";
import type { AccountsDatabase } from "./database";
import { isoTimestamp } from "./pagination";

/**
 * A status the route reports: a deposit's state (schema/deposit-states.ts, the `deposit_state`
 * enum), or what it says instead of that state when there is more to tell.
 */
type DepositStatus = DepositState | "conflict" | "dead_lettered";

const DEPOSIT = `
SELECT d.id, d.chain, d.tx_hash, d.log_index, d.amount::text AS amount, d.currency, d.to_address, d.user_id,
	d.status::text AS status, d.confirmations, d.required_confirmations, d.block_number::text AS block_number,
	d.inclusion, d.hold_reason,
	${isoTimestamp("d.first_seen_at")} AS first_seen_at, ${isoTimestamp("d.updated_at")} AS updated_at,
	${isoTimestamp("d.credited_at")} AS credited_at, ${isoTimestamp("d.reversed_at")} AS reversed_at,
	COALESCE((
		SELECT json_agg(json_build_object('amount', c.amount::text, 'currency', c.currency,
			'received_at', ${isoTimestamp("c.created_at")}) ORDER BY c.created_at, c.id)
		FROM deposit_conflicts c WHERE c.deposit_id = d.id AND c.resolved_at IS NULL
	), '[]'::json) AS conflicts
FROM deposits d WHERE d.id = $1`;

// $2 is the player asking, or NULL for an admin.
const DEAD_LETTERS = `
SELECT dl.id, dl.source, dl.reason, dl.attempts,
	${isoTimestamp("dl.created_at")} AS created_at, ${isoTimestamp("dl.redriven_at")} AS redriven_at
FROM dead_letters dl
WHERE dl.tx_id = $1
	AND ($2::uuid IS NULL
		OR lower(dl.body->>'user_id') = $2::text
		OR EXISTS (SELECT 1 FROM deposit_addresses a
			WHERE a.user_id = $2::uuid AND ${addressMatchSql("a", "dl.body->>'chain'", "dl.body->>'to_address'")}))
ORDER BY dl.created_at DESC, dl.id DESC
LIMIT 20`;

/** The status document, or null when the caller may not see it (or it does not exist). */
export async function depositStatus(
	db: AccountsDatabase,
	txId: string,
	caller: { sub: string; role: Role },
): Promise<Record<string, unknown> | null> {
	const asPlayer = caller.role === "admin" ? null : caller.sub;
	const [deposits, deadLetters] = await db.batch(
		[
			{ text: DEPOSIT, params: [txId] },
			{ text: DEAD_LETTERS, params: [txId, asPlayer] },
		],
		true,
	);
	const deposit = deposits![0];
	if (deposit) {
		const visible = asPlayer === null || (deposit.user_id === asPlayer && deposit.status !== "unmatched");
		if (!visible) return null;
		const { id, conflicts, ...fields } = deposit;
		const unresolved = conflicts as unknown[];
		return {
			tx_id: id,
			...fields,
			...(unresolved.length
				? { status: "conflict" satisfies DepositStatus, deposit_status: fields.status, conflicts: unresolved }
				: {}),
		};
	}
	if (!deadLetters!.length) return null;
	return {
		tx_id: txId,
		status: "dead_lettered" satisfies DepositStatus,
		// A player learns when; why is for the operators (reasons can name internals).
		dead_letters: deadLetters!.map((dl) =>
			asPlayer === null ? dl : { created_at: dl.created_at, redriven_at: dl.redriven_at },
		),
	};
}
