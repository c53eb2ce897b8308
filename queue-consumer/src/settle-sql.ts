/**
 * The SQL that settles a batch of deposit messages. A batch is one non-interactive transaction
 * (one HTTP round trip to Neon) of up to four statements, each taking the whole batch as one
 * JSON parameter:
 *
 * 1. {@link STORE_DEAD_LETTERS} (only when the batch has messages that can never settle),
 * 2. {@link INSERT_DEPOSITS}: insert the deposit keys not seen before, in key order,
 * 3. {@link LOCK_ROWS}: lock every deposit of the batch, in key order, then create missing
 *    wallets and lock every wallet the batch may move, in user order,
 * 4. {@link APPLY_BATCH}: with every row it touches locked, decide each deposit's transition
 *    from its current row and all of the batch's messages for it, write the ledger, the
 *    wallets, the conflicts and shortfalls, and return one outcome per message.
 *
 * Locks are taken deposits first (sorted by key), then wallets (sorted by user); afterwards
 * only rows keyed by a deposit this transaction holds are written, so two concurrent batches
 * may wait for each other but never deadlock. READ COMMITTED is enough: each statement reads
 * the latest committed rows, and from statement 3 on the rows that matter are locked.
 *
 * Amounts travel as JSON strings and are cast to NUMERIC inside Postgres: no float ever holds
 * money.
 *
 * @module
 */

/** One valid message as the SQL reads it (`i` is its position in the batch). */
export interface SettleRow {
	i: number;
	/** The queue message's id and delivery attempt, for a dead letter written by the SQL. */
	message_id: string;
	attempts: number;
	tx_id: string;
	chain: string;
	/** Normalised (trimmed, lower-case), so the key agrees with `tx_id`. */
	tx_hash: string;
	log_index: number;
	/** Exact decimal string. */
	amount: string;
	currency: string;
	confirmations: number | null;
	status: "pending" | "confirmed" | "removed";
	to_address: string | null;
	user_id: string | null;
	block_number: string | null;
	metadata: Record<string, unknown> | null;
	webhook_id: string;
	/** The chain's confirmation threshold from the consumer's configuration. */
	threshold: number;
	/** The one currency wallets hold (the consumer's configuration). */
	wallet_currency: string;
}

/** One message to store in `dead_letters`. */
export interface DeadLetterRow {
	message_id: string;
	tx_id: string | null;
	source: "consumer" | "queue_dlq";
	reason: string;
	body: unknown;
	attempts: number;
}

/** What became of one message; `i` is its position in the batch. */
export type SettleOutcome =
	| "dead_letter"
	| "pending"
	| "credited"
	| "duplicate"
	| "unmatched"
	| "conflict"
	| "reverted"
	| "reversed";

/** The columns of a batch row as the SQL reads them. */
const COLUMNS = `
	i int, tx_id uuid, chain text, tx_hash text, log_index int, amount numeric, currency text,
	confirmations int, status text, to_address text, user_id uuid, block_number bigint,
	metadata jsonb, webhook_id text, threshold int, wallet_currency text, message_id text, attempts int`;

/** The batch's messages as rows, for the statements that never store a message's body. */
const INPUT = `SELECT r.* FROM jsonb_to_recordset($1::jsonb) AS r(${COLUMNS})`;

/** The batch's messages as rows; `body` keeps the message for conflict records. */
const INPUT_WITH_BODY = `
	SELECT r.*, e - 'i' - 'threshold' - 'wallet_currency' - 'message_id' - 'attempts' AS body
	FROM jsonb_array_elements($1::jsonb) AS e, LATERAL jsonb_to_record(e) AS r(${COLUMNS})`;

/**
 * Idempotent by `message_id`. Sorted, so two deliveries of one message in concurrent batches
 * wait for each other in the same order.
 */
export const STORE_DEAD_LETTERS = `
INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts)
SELECT r.message_id, r.tx_id, r.source, r.reason, r.body, r.attempts
FROM jsonb_to_recordset($1::jsonb) AS r(
	message_id text, tx_id uuid, source text, reason text, body jsonb, attempts int)
ORDER BY r.message_id
ON CONFLICT (message_id) DO NOTHING`;

/**
 * Unseen keys are inserted as bare `pending` rows from the batch's first message for the key
 * in the wallets' currency (its amount becomes the deposit's: a deposit in another currency is
 * never created, it could never be credited). Keys are deduplicated and inserted in key order.
 * `ON CONFLICT DO NOTHING` without a target makes every unique index an arbiter: the id and
 * the key are both unique, and naming one would let a concurrent insert of the same deposit
 * fail on the other instead of waiting for it.
 */
export const INSERT_DEPOSITS = `
WITH m AS (${INPUT})
INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, status,
	confirmations, required_confirmations, block_number, webhook_id, metadata)
SELECT DISTINCT ON (m.chain, m.tx_hash, m.log_index)
	m.tx_id, m.chain, m.tx_hash, m.log_index, m.amount, m.currency, m.to_address, 'pending',
	NULL, m.threshold, m.block_number, m.webhook_id, m.metadata
FROM m
WHERE m.currency = m.wallet_currency
ORDER BY m.chain, m.tx_hash, m.log_index, m.i
ON CONFLICT DO NOTHING`;

/**
 * Locks every deposit of the batch in key order, then creates missing wallets and locks every
 * wallet the batch may move in user order: the deposits' users, the messages' users, and the
 * owners of the deposit addresses involved (an existing user always has a wallet to credit).
 *
 * A statement of its own after INSERT_DEPOSITS, so that it sees the rows concurrent batches
 * committed while INSERT_DEPOSITS waited for them. `FOR UPDATE` returns the latest committed
 * version of each row it locks, so the users read from the locked deposits are current.
 *
 * Both kinds of lock are taken in this one statement, and every deposit lock comes before the
 * first wallet lock whatever plan Postgres picks: the users to lock are gathered by an
 * aggregate (`array_agg`) in a scalar subquery, which the executor runs to completion (reading
 * every locked deposit) before the wallet insert's scan can produce its first row, and the
 * deposits are locked by `LockRows` above the sort by key.
 */
export const LOCK_ROWS = `
WITH m AS (${INPUT}),
d AS MATERIALIZED (
	SELECT d.chain, d.user_id, d.to_address FROM deposits d
	WHERE d.id IN (SELECT tx_id FROM m)
	ORDER BY d.chain, d.tx_hash, d.log_index
	FOR UPDATE
),
candidates AS (
	SELECT array_agg(c.user_id) AS ids FROM (
		SELECT user_id FROM d
		UNION SELECT user_id FROM m
		UNION SELECT a.user_id FROM deposit_addresses a
			JOIN (SELECT chain, to_address FROM m UNION SELECT chain, to_address FROM d) t
			ON a.chain = t.chain AND a.address = lower(t.to_address)
	) c
)
INSERT INTO wallets AS w (user_id)
SELECT u.id FROM users u WHERE u.id = ANY ((SELECT ids FROM candidates)::uuid[])
ORDER BY u.id
ON CONFLICT (user_id) DO UPDATE SET updated_at = w.updated_at WHERE false`;

/**
 * The transition of each deposit, decided from its locked row and the batch's messages for it
 * (only those agreeing on amount and currency; the others are conflicts):
 *
 * - already `reverted` / `reversed`: nothing changes (a reorged deposit stays dropped);
 * - a `removed` message: `credited` → `reversed` (a reversal row for what the wallet still
 *   holds; the rest is a shortfall and the user is frozen), otherwise → `reverted`;
 * - already `credited`: only the confirmations may grow;
 * - final (confirmations reached the threshold, or no count given and the sender says
 *   confirmed, or parked as unmatched before) and attributable → `credited` (ledger row and
 *   wallet in this statement), final but nobody to attribute it to → `unmatched`;
 * - otherwise `pending`, with the highest confirmations seen.
 *
 * Attribution: the user the deposit already has, else the first message's `user_id` that names
 * an existing user, else the owner of the registered deposit address.
 *
 * Within a batch, credits are applied before reversals, and several reversals for one user
 * draw on the balance in deposit order (a running sum). Each message gets its key's outcome
 * if it is the one that decided it (the first removal, or the first message), else
 * `duplicate`.
 */
export const APPLY_BATCH = `
WITH m AS MATERIALIZED (${INPUT_WITH_BODY}),
mm AS MATERIALIZED (
	SELECT m.*, d.id AS deposit_id, (d.amount = m.amount AND d.currency = m.currency) AS agrees,
		u.id AS known_user
	FROM m
	LEFT JOIN deposits d ON d.id = m.tx_id
	LEFT JOIN users u ON u.id = m.user_id
),
k AS (
	SELECT d.id, d.chain, d.tx_hash, d.log_index, d.amount, d.currency,
		d.status AS old_status, d.user_id AS old_user, d.confirmations AS old_conf,
		d.to_address AS old_address,
		GREATEST(d.confirmations, max(mm.confirmations)) AS conf,
		max(mm.threshold) AS threshold,
		bool_or(mm.status = 'removed') AS removed,
		bool_or(mm.confirmations IS NULL AND mm.status = 'confirmed') AS asserted_final,
		(array_agg(mm.known_user ORDER BY mm.i) FILTER (WHERE mm.known_user IS NOT NULL))[1] AS msg_user,
		COALESCE(d.to_address,
			(array_agg(mm.to_address ORDER BY mm.i) FILTER (WHERE mm.to_address IS NOT NULL))[1]) AS to_address,
		min(mm.i) AS first_i,
		min(mm.i) FILTER (WHERE mm.status = 'removed') AS first_removed_i
	FROM deposits d
	JOIN mm ON mm.tx_id = d.id AND mm.agrees
	GROUP BY d.id
),
a AS (
	SELECT k.*,
		COALESCE(k.old_user, k.msg_user, addr.user_id) AS user_id,
		(k.old_status = 'unmatched' OR k.asserted_final OR COALESCE(k.conf >= k.threshold, false)) AS final
	FROM k
	LEFT JOIN deposit_addresses addr ON addr.chain = k.chain AND addr.address = lower(k.to_address)
),
d0 AS (
	SELECT a.*,
		CASE
			WHEN a.old_status IN ('reverted', 'reversed') THEN 'duplicate'
			WHEN a.removed AND a.old_status = 'credited' THEN 'reversed'
			WHEN a.removed THEN 'reverted'
			WHEN a.old_status = 'credited' THEN 'duplicate'
			WHEN a.final AND a.user_id IS NOT NULL THEN 'credited'
			WHEN a.final THEN 'unmatched'
			ELSE 'pending'
		END AS outcome
	FROM a
),
dec AS (
	SELECT d0.*,
		CASE WHEN d0.outcome = 'duplicate' THEN d0.old_status ELSE d0.outcome::deposit_state END AS new_status
	FROM d0
),
credits AS (SELECT id, user_id, amount, currency FROM dec WHERE outcome = 'credited'),
reversals AS (SELECT id, old_user AS user_id, amount, currency FROM dec WHERE outcome = 'reversed'),
available AS (
	SELECT w.user_id,
		w.deposit_balance + COALESCE((SELECT sum(c.amount) FROM credits c WHERE c.user_id = w.user_id), 0) AS amount
	FROM wallets w
	WHERE w.user_id IN (SELECT user_id FROM reversals)
),
taken AS (
	SELECT r.*,
		LEAST(r.amount, GREATEST(COALESCE(av.amount, 0) - COALESCE(sum(r.amount) OVER (
			PARTITION BY r.user_id ORDER BY r.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0)) AS taken
	FROM reversals r
	LEFT JOIN available av ON av.user_id = r.user_id
),
ledger AS (
	INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata)
	SELECT c.user_id, 'deposit', c.amount, c.currency, 'deposit', c.id,
		jsonb_build_object('chain', dec.chain, 'tx_hash', dec.tx_hash, 'log_index', dec.log_index,
			'confirmations', dec.conf)
	FROM credits c JOIN dec ON dec.id = c.id
	UNION ALL
	SELECT t.user_id, 'deposit_reversal', t.taken, t.currency, 'deposit', t.id,
		jsonb_build_object('reason', 'reorg', 'shortfall', (t.amount - t.taken)::text)
	FROM taken t WHERE t.taken > 0
	RETURNING 1
),
moves AS (
	SELECT user_id, sum(delta) AS delta
	FROM (
		SELECT user_id, amount AS delta FROM credits
		UNION ALL SELECT user_id, -taken FROM taken WHERE taken > 0
	) x
	WHERE user_id IS NOT NULL
	GROUP BY user_id
),
wallet_moves AS (
	UPDATE wallets w SET deposit_balance = w.deposit_balance + moves.delta, updated_at = now()
	FROM moves
	WHERE w.user_id = moves.user_id AND moves.delta <> 0
	RETURNING 1
),
shortfalls AS (
	INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency)
	SELECT id, user_id, amount - taken, currency FROM taken WHERE taken < amount
	ON CONFLICT (deposit_id) DO NOTHING
	RETURNING 1
),
frozen AS (
	UPDATE users u SET status = 'FROZEN'
	WHERE u.id IN (SELECT user_id FROM taken WHERE taken < amount) AND u.status = 'ACTIVE'
	RETURNING 1
),
deposit_moves AS (
	UPDATE deposits d SET
		status = dec.new_status,
		confirmations = dec.conf,
		user_id = CASE WHEN dec.outcome IN ('credited', 'pending', 'unmatched') THEN dec.user_id ELSE d.user_id END,
		to_address = dec.to_address,
		required_confirmations = CASE WHEN d.status IN ('pending', 'unmatched') THEN dec.threshold
			ELSE d.required_confirmations END,
		credited_at = CASE WHEN dec.outcome = 'credited' THEN now() ELSE d.credited_at END,
		reversed_at = CASE WHEN dec.outcome IN ('reverted', 'reversed') THEN now() ELSE d.reversed_at END,
		updated_at = now()
	FROM dec
	WHERE d.id = dec.id
		AND dec.old_status NOT IN ('reverted', 'reversed')
		AND (dec.new_status <> dec.old_status
			OR dec.conf IS DISTINCT FROM dec.old_conf
			OR dec.user_id IS DISTINCT FROM dec.old_user
			OR dec.to_address IS DISTINCT FROM dec.old_address)
	RETURNING 1
),
conflicts AS (
	INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload)
	SELECT DISTINCT ON (mm.tx_id, mm.amount, mm.currency) mm.tx_id, mm.amount, mm.currency, mm.webhook_id, mm.body
	FROM mm WHERE mm.deposit_id IS NOT NULL AND NOT mm.agrees
	ORDER BY mm.tx_id, mm.amount, mm.currency, mm.i
	ON CONFLICT (deposit_id, amount, currency) DO NOTHING
	RETURNING 1
),
-- A message in another currency for a key without a deposit: it can never be credited.
foreign_currency AS (
	INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts)
	SELECT mm.message_id, mm.tx_id, 'consumer',
		format('a deposit in %s cannot be credited: wallets hold %s', mm.currency, mm.wallet_currency),
		mm.body, mm.attempts
	FROM mm WHERE mm.deposit_id IS NULL
	ORDER BY mm.message_id
	ON CONFLICT (message_id) DO NOTHING
	RETURNING 1
)
SELECT mm.i,
	CASE
		-- LOCK_ROWS created every wallet this can move; should one be missing all the same,
		-- abort the whole transaction (a failed cast) rather than commit a credit without it.
		WHEN (SELECT count(*) FROM wallet_moves) <> (SELECT count(*) FROM moves WHERE delta <> 0)
			-- (mm.i keeps the cast from being folded, and raised, at plan time)
			THEN ('settlement aborted: a wallet to move is missing, message ' || mm.i)::int::text
		WHEN mm.deposit_id IS NULL THEN 'dead_letter'
		WHEN NOT mm.agrees THEN 'conflict'
		WHEN mm.i = CASE WHEN dec.outcome IN ('reversed', 'reverted') THEN dec.first_removed_i ELSE dec.first_i END
			THEN dec.outcome
		ELSE 'duplicate'
	END AS outcome
FROM mm
LEFT JOIN dec ON dec.id = mm.tx_id
ORDER BY mm.i`;

/**
 * The statements that settle a batch, in order, each taking the batch's rows as its one JSON
 * parameter; the last one returns the outcomes. (The benchmark's raw baseline runs this list.)
 */
export const SETTLE_STATEMENTS = [INSERT_DEPOSITS, LOCK_ROWS, APPLY_BATCH] as const;
