/**
 * The ledger's invariants, checked against a live database in the spirit of Jepsen's bank
 * test: whatever order, duplication or failure the deliveries went through, money is neither
 * created nor lost. The same checks run on a database this system created and on the original
 * platform's after `ops adopt` (`ops reconcile` runs them there).
 *
 * 1. `balance`: every wallet holds what its movements say (schema/wallet-movements.ts): its
 *    baseline at adoption (none: zero) plus, since, this system's credits − what its reversals
 *    took, plus the original platform's own deposit credits and payouts − its contest entries.
 *    The total must agree exactly; each balance too while the wallet has no contest entry since
 *    (an entry takes from deposit, bonus and winning in an order the original does not record).
 *    On a database this system created that is: deposit balance = credits − reversals. Every
 *    ledger row of this system belongs to a wallet, in one currency.
 * 2. `non_negative`: no wallet balance and no deposit ledger amount is negative.
 * 3. `single_credit`: at most one credit and one reversal per inclusion of a deposit (and of a
 *    deposit key); a transfer re-included after a reorg is credited once per inclusion.
 * 4. `ledger_matches_deposits`: per inclusion, a deposit's status and its ledger rows agree.
 *    The current inclusion: credited, one credit of its amount to its user; reversed, that
 *    credit and reversal + shortfall = amount; held, what was booked before it was held (nothing,
 *    a credit, or a credit taken back in full); otherwise no ledger row. Each earlier inclusion (dropped by
 *    a reorg): no row, or a credit taken back in full (reversal + shortfall = amount). Every
 *    ledger row points at a deposit and at one of its inclusions.
 * 5. `shortfall_frozen`: a user with an unresolved reversal shortfall is not ACTIVE.
 * 6. `accounted`: every accepted webhook (`acceptedTxIds`) has a deposit or a dead letter.
 * 7. `legacy_history` (adopted databases): every deposit row of the original was seen by
 *    `ops adopt`; a superseded row points at its deposit; no deposit is credited by both
 *    systems (an original credit not mapped, for a key this system credited).
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
import { movementsQuery } from "./wallet-movements";

export type QueryRows = (sql: string, params?: unknown[]) => Promise<Record<string, unknown>[]>;

export type InvariantName =
	| "balance"
	| "non_negative"
	| "single_credit"
	| "ledger_matches_deposits"
	| "shortfall_frozen"
	| "accounted"
	| "legacy_history";

interface Violation {
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
	/** Records of the original that `ops adopt` parked and no operator resolved yet (not a violation). */
	parked: number;
}

interface CheckOptions {
	/** tx_ids the edge answered 202 for; each must end in `deposits` or `dead_letters`. */
	acceptedTxIds?: Iterable<string>;
	/** At most this many violations are listed per invariant (default 20). */
	limit?: number;
}

const CREDIT = "t.tx_type = 'deposit' AND t.related_entity = 'deposit'";
/** The inclusion a ledger row books (rows written before inclusions were counted: the first). */
const INCLUSION = "COALESCE(t.metadata->>'inclusion', '1')";
const REVERSAL = "t.tx_type = 'deposit_reversal' AND t.related_entity = 'deposit'";

/** Each check is a query that returns one row per violation, with a `detail` column. */
const CHECKS: { invariant: InvariantName; sql: string }[] = [
	// "balance" is built at run time for the schema at hand (balanceCheck).
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
SELECT format('deposit %s has %s %s rows for inclusion %s', t.related_id, count(*), t.tx_type, ${INCLUSION}) AS detail
FROM transactions t WHERE (${CREDIT}) OR (${REVERSAL})
GROUP BY t.related_id, t.tx_type, ${INCLUSION} HAVING count(*) > 1
UNION ALL
SELECT format('deposit key %s:%s:%s is credited %s times in inclusion %s', d.chain, d.tx_hash, d.log_index,
	count(*), ${INCLUSION})
FROM deposits d JOIN transactions t ON t.related_id = d.id AND ${CREDIT}
GROUP BY d.chain, d.tx_hash, d.log_index, ${INCLUSION} HAVING count(*) > 1`,
	},
	{
		invariant: "ledger_matches_deposits",
		sql: `
WITH per_inclusion AS (
	SELECT d.id, d.status, d.amount, d.currency, d.user_id, d.inclusion AS current, j.n AS inclusion,
		(SELECT count(*) FROM transactions t WHERE t.related_id = d.id AND ${CREDIT} AND ${INCLUSION} = j.n::text) AS credits,
		(SELECT sum(t.amount) FROM transactions t WHERE t.related_id = d.id AND ${CREDIT} AND ${INCLUSION} = j.n::text) AS credited,
		(SELECT bool_and(t.user_id IS NOT DISTINCT FROM d.user_id AND t.currency = d.currency)
			FROM transactions t WHERE t.related_id = d.id AND ${CREDIT} AND ${INCLUSION} = j.n::text) AS credit_to_owner,
		(SELECT count(*) FROM transactions t WHERE t.related_id = d.id AND ${REVERSAL} AND ${INCLUSION} = j.n::text) AS reversals,
		coalesce((SELECT sum(t.amount) FROM transactions t
			WHERE t.related_id = d.id AND ${REVERSAL} AND ${INCLUSION} = j.n::text), 0) AS reversed,
		coalesce((SELECT sum(s.shortfall) FROM reversal_shortfalls s WHERE s.deposit_id = d.id AND s.inclusion = j.n), 0)
			AS shortfall
	FROM deposits d CROSS JOIN LATERAL generate_series(1, d.inclusion) AS j(n)
)
SELECT format('deposit %s is %s (inclusion %s of %s) with %s credit(s) of %s, %s reversal(s) of %s and a shortfall of %s (amount %s)',
	id, status, inclusion, current, credits, coalesce(credited::text, '0'), reversals, reversed, shortfall, amount) AS detail
FROM per_inclusion
WHERE CASE
	WHEN inclusion < current THEN
		credits > 1 OR (credits = 0 AND (reversals > 0 OR shortfall > 0))
		OR (credits = 1 AND (credited <> amount OR NOT credit_to_owner OR reversed + shortfall <> amount))
	ELSE CASE status
		WHEN 'credited' THEN credits <> 1 OR credited <> amount OR NOT credit_to_owner OR reversals > 0 OR shortfall > 0
		WHEN 'reversed' THEN credits <> 1 OR credited <> amount OR NOT credit_to_owner OR reversed + shortfall <> amount
		WHEN 'held' THEN credits > 1 OR (credits = 0 AND (reversals > 0 OR shortfall > 0))
			OR (credits = 1 AND (credited <> amount OR NOT credit_to_owner
				OR NOT (reversed + shortfall = amount OR (reversals = 0 AND shortfall = 0))))
		ELSE credits > 0 OR reversals > 0 OR shortfall > 0
	END
END
UNION ALL
SELECT format('ledger row %s (%s) points at no deposit (%s)', t.id, t.tx_type, t.related_id)
FROM transactions t
WHERE ((${CREDIT}) OR (${REVERSAL})) AND NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id = t.related_id)
UNION ALL
SELECT format('ledger row %s (%s) books inclusion %s of deposit %s, which has %s', t.id, t.tx_type, ${INCLUSION},
	d.id, d.inclusion)
FROM transactions t JOIN deposits d ON d.id = t.related_id
WHERE ((${CREDIT}) OR (${REVERSAL}))
	AND CASE WHEN ${INCLUSION} ~ '^[1-9][0-9]{0,8}$' THEN ${INCLUSION}::int > d.inclusion ELSE true END`,
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

/** The `balance` check: per wallet, baseline + movements since = balances (see the module comment). */
async function balanceCheck(query: QueryRows): Promise<string> {
	const delta = (name: string) => `(m.${name}::numeric - COALESCE((b.movements->>'${name}')::numeric, 0))`;
	return `
WITH m AS (${await movementsQuery(query)}),
e AS (
	SELECT m.user_id, m.deposit_balance::numeric AS dep, m.winning_balance::numeric AS win, m.bonus_balance::numeric AS bon,
		COALESCE(b.deposit_balance, 0) + ${delta("credited")} + ${delta("original_credited")} - ${delta("reversed_from_deposit")} AS dep_expected,
		COALESCE(b.winning_balance, 0) + ${delta("payouts")} - ${delta("reversed_from_winning")} AS win_expected,
		COALESCE(b.bonus_balance, 0) AS bon_expected,
		${delta("contest_entries")} AS entries
	FROM m LEFT JOIN wallet_baselines b ON b.user_id = m.user_id
)
SELECT format('wallet of user %s holds %s in all; its baseline and movements say %s', user_id, dep + win + bon,
	dep_expected + win_expected + bon_expected - entries) AS detail
FROM e WHERE dep + win + bon <> dep_expected + win_expected + bon_expected - entries
UNION ALL
SELECT format('wallet of user %s: deposit %s, winning %s, bonus %s; its baseline and movements say %s, %s, %s',
	user_id, dep, win, bon, dep_expected, win_expected, bon_expected)
FROM e WHERE entries = 0 AND (dep <> dep_expected OR win <> win_expected OR bon <> bon_expected)
UNION ALL
SELECT format('user %s has ledger rows of this system in %s currencies', t.user_id, count(DISTINCT t.currency))
FROM transactions t WHERE (${CREDIT}) OR (${REVERSAL})
GROUP BY t.user_id HAVING count(DISTINCT t.currency) > 1
UNION ALL
SELECT format('ledger row %s (%s of %s) belongs to no wallet (user %s)', t.id, t.tx_type, t.amount, t.user_id)
FROM transactions t WHERE ((${CREDIT}) OR (${REVERSAL})) AND NOT EXISTS (SELECT 1 FROM wallets w WHERE w.user_id = t.user_id)`;
}

/** Deposit rows of the original: `tx_type` deposit, not (or no longer) pointing at a deposit here. */
const ORIGINAL_DEPOSIT_ROW = "t.tx_type = 'deposit' AND t.related_entity IS DISTINCT FROM 'deposit'";

const LEGACY_HISTORY = `
SELECT format('deposit row %s of the original (%s, hash %s) was never seen by ops adopt: run it again to map it', t.id,
	t.amount, COALESCE(t.metadata->>'tx_hash', 'none')) AS detail
FROM transactions t
WHERE ${ORIGINAL_DEPOSIT_ROW}
	AND NOT EXISTS (SELECT 1 FROM legacy_deposit_rows l WHERE l.source = 'transactions' AND l.source_id = t.id)
UNION ALL
SELECT format('superseded deposit row %s points at no deposit (%s)', t.id, t.metadata->>'superseded_by')
FROM transactions t
WHERE t.tx_type = 'deposit_superseded'
	AND NOT EXISTS (SELECT 1 FROM deposits d WHERE d.id::text = t.metadata->>'superseded_by')
UNION ALL
SELECT format('deposit %s (%s) is credited here and also by the original platform''s row %s', d.id, d.tx_hash, t.id)
FROM transactions t
JOIN deposits d ON lower(d.tx_hash) = lower(trim(t.metadata->>'tx_hash')) AND d.status IN ('credited', 'reversed')
WHERE ${ORIGINAL_DEPOSIT_ROW} AND t.metadata->>'status' = 'confirmed'`;

/** Runs every check; never throws for a violation (only when a query fails). */
export async function checkLedgerInvariants(
	query: QueryRows,
	options: CheckOptions = {},
): Promise<LedgerReport> {
	const limit = options.limit ?? 20;
	const accepted = [...new Set(options.acceptedTxIds ?? [])];
	const violations: Violation[] = [];
	const checks = [
		{ invariant: "balance" as const, sql: await balanceCheck(query) },
		...CHECKS,
		{ invariant: "legacy_history" as const, sql: LEGACY_HISTORY },
	];
	for (const check of checks) {
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
SELECT coalesce((SELECT sum(deposit_balance) FROM wallets), 0)::text AS wallet_total,
	(SELECT count(*) FROM dead_letters)::int AS dead_letters,
	(SELECT count(*) FROM deposit_conflicts)::int AS conflicts,
	(SELECT count(*) FROM legacy_deposit_rows WHERE outcome = 'parked' AND resolved_at IS NULL)::int AS parked`);
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
		parked: Number(totals?.parked ?? 0),
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
	if (report.parked) {
		lines.push(
			`  ${report.parked} record(s) of the original parked by ops adopt, for an operator (legacy_deposit_rows)`,
		);
	}
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
