/**
 * The movements of a wallet that the ledger can account for, summed per wallet in one query:
 * this system's deposit credits and reversals (from the deposit and the winning balance, as
 * settlement records them), and, on a database shared with the original platform, what its own
 * rows record: deposits its deposit task credited, contest payouts (`internal` rows to the
 * winning balance) and contest entries (`contest_entries.amount_debited`, taken from deposit,
 * then bonus, then winning). The original's withdrawal rows move no balance in its code, and
 * nothing here counts them.
 *
 * `ops adopt` stores these sums, with the balances, as each wallet's baseline (one snapshot:
 * one statement); the ledger-invariant checker (`ops reconcile`, and the tests) expects each
 * wallet to hold its baseline plus what the sums grew by since. A wallet without a baseline is
 * accounted from zero, which on a database this system created makes the rule the plain one:
 * deposit balance = credits − what reversals took from it.
 *
 * @module
 */

/** Any `query(sql, params)` that returns rows as objects (the Neon driver's, `pg`'s). */
type QueryRows = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

/** Names of the sums, as stored in `wallet_baselines.movements`. */
export const MOVEMENTS = [
	"credited",
	"reversed_from_deposit",
	"reversed_from_winning",
	"original_credited",
	"payouts",
	"contest_entries",
] as const;
export type MovementName = (typeof MOVEMENTS)[number];

const OURS = "t.related_entity = 'deposit'";

/**
 * The query: one row per wallet, `user_id`, the three balances and each movement, all as
 * exact decimal text. Built for the schema at hand: `transactions.processed_at` and the
 * contest entries table exist only where the original platform built the database (its
 * entries table is `contest_entries` since its revision 0005, `entries` before).
 */
export async function movementsQuery(query: QueryRows): Promise<string> {
	const [shape] = (await query(
		`SELECT EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = 'public' AND table_name = 'transactions' AND column_name = 'processed_at') AS processed_at,
			COALESCE(to_regclass('public.contest_entries')::text, to_regclass('public.entries')::text) AS entries`,
	)) as { processed_at: boolean; entries: string | null }[];
	const originalCredit = shape?.processed_at
		? "(t.processed_at IS NOT NULL OR t.metadata->>'status' = 'confirmed')"
		: "t.metadata->>'status' = 'confirmed'";
	const entries = shape?.entries
		? `(SELECT sum(e.amount_debited) FROM ${shape.entries} e WHERE e.user_id = w.user_id)`
		: "0";
	return `
SELECT w.user_id, w.deposit_balance::text AS deposit_balance, w.winning_balance::text AS winning_balance,
	w.bonus_balance::text AS bonus_balance,
	COALESCE(l.credited, 0)::text AS credited,
	COALESCE(l.reversed_from_deposit, 0)::text AS reversed_from_deposit,
	COALESCE(l.reversed_from_winning, 0)::text AS reversed_from_winning,
	COALESCE(l.original_credited, 0)::text AS original_credited,
	COALESCE(l.payouts, 0)::text AS payouts,
	COALESCE(${entries}, 0)::text AS contest_entries
FROM wallets w
LEFT JOIN LATERAL (
	SELECT
		sum(t.amount) FILTER (WHERE t.tx_type = 'deposit' AND ${OURS}) AS credited,
		-- Before reversals recorded where they took from, they took from the deposit balance only.
		sum(COALESCE((t.metadata->>'from_deposit')::numeric, t.amount)) FILTER (WHERE t.tx_type = 'deposit_reversal' AND ${OURS}) AS reversed_from_deposit,
		sum(COALESCE((t.metadata->>'from_winning')::numeric, 0)) FILTER (WHERE t.tx_type = 'deposit_reversal' AND ${OURS}) AS reversed_from_winning,
		sum(t.amount) FILTER (WHERE t.tx_type = 'deposit' AND t.related_entity IS DISTINCT FROM 'deposit' AND ${originalCredit}) AS original_credited,
		sum(t.amount) FILTER (WHERE t.tx_type = 'internal' AND t.related_entity = 'contest') AS payouts
	FROM transactions t WHERE t.user_id = w.user_id
) l ON true`;
}
