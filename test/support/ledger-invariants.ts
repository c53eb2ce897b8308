/**
 * The ledger's invariants, checked against a live database in the spirit of Jepsen's bank
 * test: whatever order, duplication or failure the deliveries went through, money is neither
 * created nor lost.
 *
 * 1. `balance`: per user, credits − reversals in `transactions` = the wallet's deposit balance
 *    (and per currency, the totals agree); a wallet holds one currency.
 * 2. `non_negative`: no wallet balance and no deposit ledger amount is negative.
 * 3. `single_credit`: at most one credit and one reversal per deposit (and per deposit key).
 * 4. `ledger_matches_deposits`: a deposit's status and its ledger rows agree (credited: one
 *    credit of its amount to its user; reversed: reversal + shortfall = amount; otherwise no
 *    ledger row), and every ledger row points at a deposit.
 * 5. `shortfall_frozen`: a user with an unresolved reversal shortfall is not ACTIVE.
 * 6. `accounted`: every accepted webhook (`acceptedTxIds`) has a deposit or a dead letter.
 *
 * Driver-agnostic: give it any `query(sql, params)` that returns rows as objects, e.g.
 * `(q, p) => sql.query(q, p)` for the Neon driver or `async (q, p) => (await client.query(q, p)).rows`
 * for `pg`. Amounts are compared in SQL as NUMERIC and reported as strings.
 *
 * @example
 * ```ts
 * const report = await checkLedgerInvariants((q, p) => sql.query(q, p), { acceptedTxIds });
 * if (!report.ok) throw new Error(formatLedgerReport(report));
 * ```
 *
 * @module
 */

export type QueryRows = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export type InvariantName =
	| "balance"
	| "non_negative"
	| "single_credit"
	| "ledger_matches_deposits"
	| "shortfall_frozen"
	| "accounted";

export interface Violation {
	invariant: InvariantName;
	detail: string;
}

export interface LedgerReport {
	ok: boolean;
	violations: Violation[];
	/** Per currency: sums of credits and reversals in the ledger, and their difference. */
	currencies: { currency: string; credited: string; reversed: string; net: string }[];
	/** Sum of every wallet's deposit balance. */
	walletTotal: string;
	/** Number of deposits per status. */
	deposits: Record<string, number>;
	deadLetters: number;
	conflicts: number;
	/** How many accepted webhooks were checked (0 when none were given). */
	accepted: number;
}

export interface CheckOptions {
	/** tx_ids the edge answered 202 for; each must end in `deposits` or `dead_letters`. */
	acceptedTxIds?: Iterable<string>;
	/** At most this many violations are listed per invariant (default 20). */
	limit?: number;
}

const CREDIT = "t.tx_type = 'deposit' AND t.related_entity = 'deposit'";
const REVERSAL = "t.tx_type = 'deposit_reversal' AND t.related_entity = 'deposit'";

/** Each check is a query that returns one row per violation, with a `detail` column. */
const CHECKS: { invariant: InvariantName; sql: string }[] = [
	{
		invariant: "balance",
		sql: `
WITH ledger AS (
	SELECT t.user_id,
		sum(CASE WHEN ${CREDIT} THEN t.amount ELSE -t.amount END) AS net,
		count(DISTINCT t.currency) AS currencies
	FROM transactions t
	WHERE (${CREDIT}) OR (${REVERSAL})
	GROUP BY t.user_id
)
SELECT format('user %s: ledger says %s, wallet holds %s%s', coalesce(l.user_id, w.user_id),
	coalesce(l.net, 0), coalesce(w.deposit_balance::text, 'no wallet'),
	CASE WHEN l.currencies > 1 THEN format(' (ledger in %s currencies)', l.currencies) ELSE '' END) AS detail
FROM ledger l
FULL JOIN wallets w ON w.user_id = l.user_id
WHERE coalesce(l.net, 0) <> coalesce(w.deposit_balance, 0) OR l.currencies > 1`,
	},
	{
		invariant: "non_negative",
		sql: `
SELECT format('wallet of user %s: deposit %s, winning %s, bonus %s', user_id, deposit_balance,
	winning_balance, bonus_balance) AS detail
FROM wallets WHERE deposit_balance < 0 OR winning_balance < 0 OR bonus_balance < 0
UNION ALL
SELECT format('ledger row %s (%s) has amount %s', t.id, t.tx_type, t.amount)
FROM transactions t WHERE ((${CREDIT}) OR (${REVERSAL})) AND t.amount < 0`,
	},
	{
		invariant: "single_credit",
		sql: `
SELECT format('deposit %s has %s %s rows', t.related_id, count(*), t.tx_type) AS detail
FROM transactions t WHERE (${CREDIT}) OR (${REVERSAL})
GROUP BY t.related_id, t.tx_type HAVING count(*) > 1
UNION ALL
SELECT format('deposit key %s:%s:%s is credited %s times', d.chain, d.tx_hash, d.log_index, count(*))
FROM deposits d JOIN transactions t ON t.related_id = d.id AND ${CREDIT}
GROUP BY d.chain, d.tx_hash, d.log_index HAVING count(*) > 1`,
	},
	{
		invariant: "ledger_matches_deposits",
		sql: `
WITH per_deposit AS (
	SELECT d.id, d.status, d.amount, d.currency, d.user_id,
		(SELECT count(*) FROM transactions t WHERE t.related_id = d.id AND ${CREDIT}) AS credits,
		(SELECT sum(t.amount) FROM transactions t WHERE t.related_id = d.id AND ${CREDIT}) AS credited,
		(SELECT bool_and(t.user_id IS NOT DISTINCT FROM d.user_id AND t.currency = d.currency)
			FROM transactions t WHERE t.related_id = d.id AND ${CREDIT}) AS credit_to_owner,
		(SELECT count(*) FROM transactions t WHERE t.related_id = d.id AND ${REVERSAL}) AS reversals,
		coalesce((SELECT sum(t.amount) FROM transactions t WHERE t.related_id = d.id AND ${REVERSAL}), 0) AS reversed,
		coalesce((SELECT sum(s.shortfall) FROM reversal_shortfalls s WHERE s.deposit_id = d.id), 0) AS shortfall
	FROM deposits d
)
SELECT format('deposit %s is %s with %s credit(s) of %s, %s reversal(s) of %s and a shortfall of %s (amount %s)',
	id, status, credits, coalesce(credited::text, '0'), reversals, reversed, shortfall, amount) AS detail
FROM per_deposit
WHERE CASE status
	WHEN 'credited' THEN credits <> 1 OR credited <> amount OR NOT credit_to_owner OR reversals > 0 OR shortfall > 0
	WHEN 'reversed' THEN credits <> 1 OR credited <> amount OR NOT credit_to_owner OR reversed + shortfall <> amount
	ELSE credits > 0 OR reversals > 0 OR shortfall > 0
END
UNION ALL
SELECT format('ledger row %s (%s) points at no deposit (%s)', t.id, t.tx_type, t.related_id)
FROM transactions t
WHERE ((${CREDIT}) OR (${REVERSAL})) AND NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id = t.related_id)`,
	},
	{
		invariant: "shortfall_frozen",
		sql: `
SELECT format('user %s owes a reversal shortfall of %s %s but is %s', u.id, s.shortfall, s.currency, u.status) AS detail
FROM reversal_shortfalls s JOIN users u ON u.id = s.user_id
WHERE s.resolved_at IS NULL AND u.status = 'ACTIVE'`,
	},
	{
		invariant: "accounted",
		sql: `
SELECT format('accepted webhook %s is neither in deposits nor in dead_letters', a.tx_id) AS detail
FROM unnest($1::uuid[]) AS a(tx_id)
WHERE NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id = a.tx_id)
	AND NOT EXISTS (SELECT 1 FROM dead_letters l WHERE l.tx_id = a.tx_id)`,
	},
];

/** Runs every check; never throws for a violation (only when a query fails). */
export async function checkLedgerInvariants(
	query: QueryRows,
	options: CheckOptions = {},
): Promise<LedgerReport> {
	const limit = options.limit ?? 20;
	const accepted = [...new Set(options.acceptedTxIds ?? [])];
	const violations: Violation[] = [];
	for (const check of CHECKS) {
		const params = check.invariant === "accounted" ? [`{${accepted.join(",")}}`] : [];
		const rows = await query(`${check.sql}\nLIMIT ${limit + 1}`, params);
		for (const row of rows.slice(0, limit))
			violations.push({ invariant: check.invariant, detail: String(row.detail) });
		if (rows.length > limit) violations.push({ invariant: check.invariant, detail: "… and more" });
	}
	const currencies = await query(`
SELECT t.currency,
	coalesce(sum(t.amount) FILTER (WHERE ${CREDIT}), 0)::text AS credited,
	coalesce(sum(t.amount) FILTER (WHERE ${REVERSAL}), 0)::text AS reversed,
	(coalesce(sum(t.amount) FILTER (WHERE ${CREDIT}), 0) - coalesce(sum(t.amount) FILTER (WHERE ${REVERSAL}), 0))::text AS net
FROM transactions t WHERE (${CREDIT}) OR (${REVERSAL})
GROUP BY t.currency ORDER BY t.currency`);
	const [totals] = await query(`
WITH sums AS (
	SELECT coalesce((SELECT sum(deposit_balance) FROM wallets), 0) AS wallet_total,
		coalesce((SELECT sum(CASE WHEN ${CREDIT} THEN t.amount ELSE -t.amount END)
			FROM transactions t WHERE (${CREDIT}) OR (${REVERSAL})), 0) AS ledger_total
)
SELECT wallet_total::text, ledger_total::text, wallet_total = ledger_total AS equal,
	(SELECT count(*) FROM dead_letters)::int AS dead_letters,
	(SELECT count(*) FROM deposit_conflicts)::int AS conflicts
FROM sums`);
	if (totals && totals.equal !== true) {
		violations.push({
			invariant: "balance",
			detail: `wallets hold ${totals.wallet_total} in total, the ledger says ${totals.ledger_total}`,
		});
	}
	const statuses = await query(
		"SELECT status::text AS status, count(*)::int AS n FROM deposits GROUP BY status",
	);
	return {
		ok: violations.length === 0,
		violations,
		currencies: currencies.map((r) => ({
			currency: String(r.currency),
			credited: String(r.credited),
			reversed: String(r.reversed),
			net: String(r.net),
		})),
		walletTotal: String(totals?.wallet_total ?? "0"),
		deposits: Object.fromEntries(statuses.map((r) => [String(r.status), Number(r.n)])),
		deadLetters: Number(totals?.dead_letters ?? 0),
		conflicts: Number(totals?.conflicts ?? 0),
		accepted: accepted.length,
	};
}

/** A report as a few readable lines (violations first). */
export function formatLedgerReport(report: LedgerReport): string {
	const lines = report.ok
		? ["ledger invariants hold"]
		: [
				`ledger invariants violated (${report.violations.length}):`,
				...report.violations.map((v) => `  [${v.invariant}] ${v.detail}`),
			];
	for (const c of report.currencies) {
		lines.push(`  ${c.currency}: credited ${c.credited}, reversed ${c.reversed}, net ${c.net}`);
	}
	lines.push(
		`  wallets hold ${report.walletTotal}; deposits ${JSON.stringify(report.deposits)}; ` +
			`${report.conflicts} conflicts, ${report.deadLetters} dead letters; ${report.accepted} accepted webhooks checked`,
	);
	return lines.join("\n");
}

/** Checks and throws an Error carrying the formatted report when anything is violated. */
export async function assertLedgerInvariants(
	query: QueryRows,
	options: CheckOptions = {},
): Promise<LedgerReport> {
	const report = await checkLedgerInvariants(query, options);
	if (!report.ok) throw new Error(formatLedgerReport(report));
	return report;
}
