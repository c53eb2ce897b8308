/**
 * The way back, for deposits: hands the original platform the deposits this system took over
 * from it and never credited, so that the original, running again, credits them when its
 * watcher reports them, and this system does not. In one transaction:
 *
 * - each of the original's rows that `ops adopt` superseded, whose deposit here is still not
 *   credited (pending, unmatched, held or reverted), gets its fields back as they were
 *   (`legacy_deposit_rows.original`): a `deposit` row the original's deposit task processes;
 * - that deposit is removed here (it has no ledger row: it never moved money), and the row's
 *   record in `legacy_deposit_rows` says `handed_back`, so a later adoption maps it again.
 *
 * Everything this system credited stays credited: its ledger rows are marked processed for the
 * original (the adoption's trigger), which skips them. Deposits that only this system saw and
 * did not credit are not the original's to take: its watcher reports them to it again.
 *
 * @module
 */
import type { Session } from "./session";

interface HandBack {
	deposit_id: string;
	transaction_id: string;
	status: string;
	amount: string;
	tx_hash: string;
}

const RETURNABLE = `
SELECT d.id AS deposit_id, l.source_id AS transaction_id, d.status::text AS status, d.amount::text AS amount, d.tx_hash
FROM legacy_deposit_rows l
JOIN deposits d ON d.id = l.deposit_id
JOIN transactions t ON t.id = l.source_id AND t.tx_type = 'deposit_superseded'
WHERE l.source = 'transactions' AND l.outcome = 'pending' AND d.status NOT IN ('credited', 'reversed')
	AND NOT EXISTS (SELECT 1 FROM transactions c WHERE c.related_entity = 'deposit' AND c.related_id = d.id)
ORDER BY d.first_seen_at, d.id
FOR UPDATE OF d, t, l`;

/** The deposits that would be handed back (and, with `apply`, hands them back). Call inside a transaction. */
export async function handBack(db: Session, apply: boolean): Promise<HandBack[]> {
	const rows = await db.query<HandBack & Record<string, unknown>>(RETURNABLE);
	if (!apply || !rows.length) return rows;
	const ids = rows.map((r) => r.deposit_id);
	await db.query(
		`UPDATE transactions t SET tx_type = l.original->>'tx_type', related_entity = l.original->>'related_entity',
			related_id = (l.original->>'related_id')::uuid, metadata = l.original->'metadata'
		 FROM legacy_deposit_rows l
		 WHERE l.source = 'transactions' AND l.source_id = t.id AND l.deposit_id = ANY ($1::uuid[])`,
		[ids],
	);
	await db.query(
		"UPDATE legacy_deposit_rows SET outcome = 'handed_back', reason = 'handed back to the original platform' WHERE deposit_id = ANY ($1::uuid[])",
		[ids],
	);
	await db.query("DELETE FROM deposits WHERE id = ANY ($1::uuid[])", [ids]);
	return rows;
}
