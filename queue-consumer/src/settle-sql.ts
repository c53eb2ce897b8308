/**
 * The SQL that settles a batch of deposit messages. A batch is one non-interactive transaction
 * (one HTTP round trip to Neon) of up to four statements, each taking the whole batch as one
 * JSON parameter:
 *
 * 1. {@link STORE_DEAD_LETTERS} (only when the batch has messages that can never settle),
 * 2. {@link INSERT_DEPOSITS}: insert the deposit keys not seen before, in key order, already
 *    in the state the batch's messages put them in (most deposits are seen once, past their
 *    threshold: they are written once, never updated),
 * 3. {@link LOCK_ROWS}: lock every other deposit of the batch, in key order, then create
 *    missing wallets and lock every wallet the batch may move, in user order,
 * 4. {@link APPLY_BATCH}: with every row it touches locked, decide each other deposit's
 *    transition from its current row and all of the batch's messages for it, book the credits
 *    and reversals (ledger, wallets, shortfalls), record conflicts, and return one outcome per
 *    message.
 *
 * The rules that decide a deposit's transition (`RULES`) are one piece of SQL, used by
 * statements 2 and 4.
 *
 * Two concurrent batches may wait for each other but never deadlock. Statement 2 waits only
 * for another batch inserting the same key, and both insert in key order. Statement 3 locks
 * deposits in key order, then wallets in user order; it never meets a deposit inserted by a
 * batch still running (that insert would have made this batch's statement 2 wait for it).
 * After that, only rows keyed by a deposit this transaction holds are written. READ COMMITTED
 * is enough: each statement reads the latest committed rows, and from statement 3 on the rows
 * that matter are locked (a deposit inserted here is held from its insert).
 *
 * Amounts travel as JSON strings and are cast to NUMERIC inside Postgres: no float ever holds
 * money.
 *
 * @module
 */
import { addressMatchSql } from "../../schema/address-family";
import { DEPOSIT_STATES, type DepositState } from "../../schema/deposit-states";

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
	/**
	 * Whether this chain's senders may assert finality (SENDER_FINALITY): only then is a
	 * `confirmed` message without confirmations final.
	 */
	sender_finality: boolean;
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

/**
 * What can become of one message in the SQL (APPLY_BATCH returns one per message): the deposit
 * state it left the deposit in (any but `rejected`, which only an admin's review gives), or
 * `duplicate`, `conflict`, `dead_letter` for a message that moved no deposit.
 */
export const SETTLE_OUTCOMES = [
	...DEPOSIT_STATES.filter((s): s is Exclude<DepositState, "rejected"> => s !== "rejected"),
	"dead_letter",
	"duplicate",
	"conflict",
] as const;
export type SettleOutcome = (typeof SETTLE_OUTCOMES)[number];

/** The columns of a batch row as the SQL reads them. */
const COLUMNS = `
	i int, tx_id uuid, chain text, tx_hash text, log_index int, amount numeric, currency text,
	confirmations int, status text, to_address text, user_id uuid, block_number bigint,
	metadata jsonb, webhook_id text, threshold int, wallet_currency text, sender_finality boolean,
	message_id text, attempts int`;

/** The batch's messages as rows. */
const INPUT = `SELECT r.* FROM jsonb_to_recordset($1::jsonb) AS r(${COLUMNS})`;

/** Message `i` as stored in conflict and dead-letter records: without the consumer's own fields. */
const storedBody = (i: string) => `(
	SELECT e - 'i' - 'threshold' - 'wallet_currency' - 'sender_finality' - 'message_id' - 'attempts'
	FROM jsonb_array_elements($1::jsonb) AS e WHERE (e->>'i')::int = ${i})`;

/**
 * The ids of the batch's deposits, as an array: `id = ANY (array)` is looked up in the primary
 * key whatever the planner guesses about the batch (a semi-join against the batch's rows may
 * become a scan of the whole table).
 */
const BATCH_IDS = "(SELECT array_agg(tx_id) FROM m)::uuid[]";

/**
 * The ids of the deposits INSERT_DEPOSITS inserted, kept for the statements after it in a
 * transaction-local setting (gone when the transaction ends, whether it commits or not).
 */
const INSERTED_SETTING = "cricalgo.inserted_deposits";
/**
 * True for a deposit `d` that this transaction inserted. The scalar subquery parses the list
 * once per statement (a bare cast would parse it again for every row); the cast around it keeps
 * Postgres from reading `ANY (SELECT …)` as a comparison with each row of a subquery.
 */
const INSERTED_HERE = `d.id = ANY ((SELECT current_setting('${INSERTED_SETTING}')::uuid[])::uuid[])`;

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
 * The settlement rules, shared by INSERT_DEPOSITS (for deposits not seen before) and
 * APPLY_BATCH (for the others); docs/deposit-states.md draws them. Reads `mm`, defined before
 * it: the batch's messages, each with the deposit it is for as it stands (`d_*` columns),
 * whether it `agrees` with that deposit (same amount and currency), whether this transaction
 * inserted the deposit (`inserted_here`), and its `user_id` if that names an existing user
 * (`known_user`). A deposit not seen before is read as a bare `pending` row without a block.
 *
 * Defines `k` (per deposit, what its agreeing messages say; the others are conflicts) and
 * `ruled` (per deposit not inserted here, what happens and the values to store).
 *
 * A deposit row stands for one inclusion of the transfer in a block (`inclusion`, `block_number`)
 * and remembers every block a reorg removed it from (`removed_blocks`). The outcome is decided
 * from the row and the batch's messages together, whatever their order:
 *
 * 1. A `removed` message names a block (none named: the deposit's own). When it is the block of
 *    the live inclusion (pending, unmatched, credited), that inclusion is dropped: `credited` →
 *    `reversed` (a reversal row), otherwise → `reverted`. The block joins `removed_blocks`.
 * 2. Every other message is a sighting. One in a removed block is a late redelivery: ignored. On
 *    a live inclusion, one in its block (or naming none, while nothing was ever removed) counts
 *    for it: the confirmations only grow; final (the chain's threshold reached, or parked as
 *    unmatched before, or the sender asserting finality where allowed) and attributable →
 *    `credited` once, final with nobody to attribute it to → `unmatched`, else `pending`.
 * 3. Once the inclusion is dropped, a sighting in a block never removed is a re-inclusion: a new
 *    inclusion (number + 1) in that block, from its own confirmations, settled as in 2 and
 *    credited once more when final, with its own ledger rows.
 * 4. Where the messages cannot decide, the deposit is `held` for an operator, never dropped:
 *    a sighting that names no block after a removal, or any sighting after the removal of a
 *    block nobody named (`reinclusion_unproven`: it may be a redelivery or a re-inclusion), or
 *    two live blocks at once (`block_disagreement`: one of them was reorged away, and its
 *    removal has not arrived). What is booked stays booked; a held deposit changes only by an
 *    operator's decision (routes/admin/deposit-review.ts), and so does a `rejected` one.
 *
 * Attribution: the user the deposit already has, else the first message's `user_id` that names
 * an existing user, else the player the deposit address was issued to (one owner per address
 * family: an EVM address on every EVM chain; schema/address-family.ts) before the deposit was
 * first seen. An address issued or registered later never takes a deposit already seen (its
 * owner is fixed when it is first attributed). A parked (`unmatched`) deposit takes none of
 * these: only the owner an admin's assign or attribute wrote on its row.
 *
 * Every step reads one row per message or per deposit, without joins between the batch's own
 * intermediate results: the planner cannot estimate their sizes, and a nested loop over them
 * would cost a rescan per row. The sightings of a deposit travel as arrays and are read back by
 * subqueries over them, per deposit.
 */
const RULES = `
k AS (
	SELECT mm.tx_id AS id, mm.d_chain AS chain, mm.d_tx_hash AS tx_hash, mm.d_log_index AS log_index,
		mm.d_amount AS amount, mm.d_currency AS currency, mm.d_status AS old_status,
		mm.d_user_id AS old_user, mm.d_confirmations AS old_conf, mm.d_to_address AS old_address,
		mm.d_block_number AS old_block, mm.d_webhook_id AS webhook_id, mm.d_metadata AS metadata,
		mm.d_inclusion AS old_inclusion, mm.d_removed_blocks AS old_removed,
		mm.d_first_seen_at AS first_seen_at, mm.d_hold_reason AS old_hold_reason,
		mm.d_hold_detail AS old_hold_detail, mm.inserted_here,
		max(mm.threshold) AS threshold,
		array_agg(mm.block_number ORDER BY mm.i) FILTER (WHERE mm.status <> 'removed') AS s_blocks,
		array_agg(mm.confirmations ORDER BY mm.i) FILTER (WHERE mm.status <> 'removed') AS s_confs,
		array_agg(mm.confirmations IS NULL AND mm.status = 'confirmed' AND mm.sender_finality ORDER BY mm.i)
			FILTER (WHERE mm.status <> 'removed') AS s_asserted,
		array_agg(mm.i ORDER BY mm.i) FILTER (WHERE mm.status <> 'removed') AS s_is,
		array_agg(mm.block_number ORDER BY mm.i) FILTER (WHERE mm.status = 'removed') AS r_blocks,
		(array_agg(mm.block_number ORDER BY mm.i) FILTER (WHERE mm.block_number IS NOT NULL))[1] AS first_block,
		(array_agg(mm.known_user ORDER BY mm.i) FILTER (WHERE mm.known_user IS NOT NULL))[1] AS msg_user,
		COALESCE(mm.d_to_address,
			(array_agg(mm.to_address ORDER BY mm.i) FILTER (WHERE mm.to_address IS NOT NULL))[1]) AS to_address,
		min(mm.i) AS first_i,
		min(mm.i) FILTER (WHERE mm.status = 'removed') AS first_removed_i
	FROM mm
	WHERE mm.agrees
	GROUP BY mm.tx_id, mm.d_chain, mm.d_tx_hash, mm.d_log_index, mm.d_amount, mm.d_currency,
		mm.d_status, mm.d_user_id, mm.d_confirmations, mm.d_to_address, mm.d_block_number,
		mm.d_webhook_id, mm.d_metadata, mm.d_inclusion, mm.d_removed_blocks, mm.d_first_seen_at,
		mm.d_hold_reason, mm.d_hold_detail, mm.inserted_here
),
-- A deposit held because two blocks were live at once is decided again with every message: its
-- status before the hold and the sightings of the other blocks (kept in hold_detail) are replayed.
b0 AS (
	SELECT k.*, r.replay,
		CASE WHEN r.replay THEN (k.old_hold_detail->>'previous_status')::deposit_state ELSE k.old_status END
			AS eff_status,
		COALESCE(k.s_blocks, '{}') || COALESCE(r.blocks, '{}') AS sb,
		COALESCE(k.s_confs, '{}') || COALESCE(r.confs, '{}') AS sc,
		COALESCE(k.s_asserted, '{}') || COALESCE(r.asserted, '{}') AS sf,
		COALESCE(k.s_is, '{}') || COALESCE(r.is_, '{}') AS si
	FROM k, LATERAL (
		SELECT k.old_status = 'held' AND k.old_hold_reason = 'block_disagreement' AS replay,
			array_agg(c.key::bigint) AS blocks, array_agg(c.value::int) AS confs,
			array_agg(false) AS asserted, array_agg(NULL::int) AS is_
		FROM jsonb_each_text(CASE WHEN k.old_status = 'held' AND k.old_hold_reason = 'block_disagreement'
			THEN k.old_hold_detail->'candidates' END) AS c
	) r
	WHERE NOT k.inserted_here
),
-- The block the live inclusion is known by, and every removed block (this batch's removals added).
b1 AS (
	SELECT b0.*, COALESCE(b0.old_block, b0.first_block) AS cur,
		b0.eff_status IN ('pending', 'credited', 'unmatched') AS live
	FROM b0
),
b2 AS (
	SELECT b1.*,
		b1.old_removed || COALESCE(
			(SELECT array_agg(COALESCE(r.b, b1.cur)) FROM unnest(b1.r_blocks) AS r(b)), '{}') AS rb
	FROM b1
),
b3 AS (
	SELECT b2.*,
		b2.live AND b2.r_blocks IS NOT NULL AND (b2.cur IS NULL OR array_position(b2.rb, b2.cur) IS NOT NULL)
			AS cur_removed
	FROM b2
),
-- Each sighting classified: stale (a removed block), unproven, same inclusion, new block, or
-- another live block.
sighted AS (
	SELECT b3.*, NOT b3.live OR b3.cur_removed AS dropped, x.*
	FROM b3, LATERAL (
		SELECT
			count(*) FILTER (WHERE c.kind = 'unproven') AS n_unproven,
			count(*) FILTER (WHERE c.kind = 'other') AS n_other,
			count(DISTINCT c.b) FILTER (WHERE c.kind = 'new') AS n_new_blocks,
			min(c.b) FILTER (WHERE c.kind = 'new') AS nb,
			max(c.c) FILTER (WHERE c.kind = 'new') AS nb_conf,
			COALESCE(bool_or(c.f) FILTER (WHERE c.kind = 'new'), false) AS nb_asserted,
			max(c.c) FILTER (WHERE c.kind = 'same') AS same_conf,
			COALESCE(bool_or(c.f) FILTER (WHERE c.kind = 'same'), false) AS same_asserted,
			min(c.i) FILTER (WHERE c.kind <> 'stale') AS sighting_i,
			-- per block not yet decided, the highest confirmations seen (the last value of a key wins)
			jsonb_object_agg(c.b::text, c.c ORDER BY c.c NULLS FIRST) FILTER (WHERE c.kind IN ('other', 'new'))
				AS candidates,
			array_agg(c.b ORDER BY c.i) FILTER (WHERE c.kind = 'unproven') AS unproven_blocks
		FROM (
			SELECT s.b, s.c, s.f, s.i,
				CASE
					WHEN s.b IS NOT NULL AND array_position(b3.rb, s.b) IS NOT NULL THEN 'stale'
					WHEN cardinality(b3.rb) > 0 AND (s.b IS NULL OR array_position(b3.rb, NULL) IS NOT NULL)
						THEN 'unproven'
					WHEN NOT b3.live OR b3.cur_removed THEN 'new'
					WHEN s.b IS NULL OR b3.cur IS NULL OR s.b = b3.cur THEN 'same'
					ELSE 'other'
				END AS kind
			FROM unnest(b3.sb, b3.sc, b3.sf, b3.si) AS s(b, c, f, i)
		) c
	) x
),
a AS (
	SELECT s.*,
		-- A parked deposit goes only to the owner an admin fixed on its row (the assign and
		-- attribute routes); no message and no address registered since can move it.
		CASE WHEN s.eff_status = 'unmatched' THEN s.old_user
			ELSE COALESCE(s.old_user, s.msg_user, addr.user_id) END AS user_id,
		s.eff_status NOT IN ('held', 'rejected') AND (s.n_unproven > 0 OR s.n_other > 0 OR s.n_new_blocks > 1) AS hold,
		CASE WHEN s.cur_removed THEN CASE WHEN s.eff_status = 'credited' THEN 'reversed' ELSE 'reverted' END END
			AS rev_outcome,
		s.dropped AND s.n_new_blocks = 1 AND s.eff_status NOT IN ('held', 'rejected') AS reincluded,
		GREATEST(s.old_conf, s.same_conf) AS same_conf_total
	FROM sighted s
	LEFT JOIN deposit_addresses addr
		ON ${addressMatchSql("addr", "s.chain", "s.to_address")} AND addr.user_id IS NOT NULL
			AND addr.issued_at <= s.first_seen_at
),
d0 AS (
	SELECT a.*,
		CASE
			-- held for review or rejected by it: only the review moves these
			WHEN a.eff_status IN ('held', 'rejected') THEN 'duplicate'
			WHEN a.hold THEN 'held'
			WHEN a.reincluded AND (COALESCE(a.nb_conf >= a.threshold, false) OR a.nb_asserted)
				THEN CASE WHEN a.user_id IS NOT NULL THEN 'credited' ELSE 'unmatched' END
			WHEN a.reincluded THEN 'pending'
			WHEN a.dropped THEN 'duplicate'
			WHEN a.eff_status = 'credited' THEN 'duplicate'
			WHEN a.eff_status = 'unmatched' OR a.same_asserted OR COALESCE(a.same_conf_total >= a.threshold, false)
				THEN CASE WHEN a.user_id IS NOT NULL THEN 'credited' ELSE 'unmatched' END
			ELSE 'pending'
		END AS inc_outcome
	FROM a
),
ruled AS (
	SELECT d0.*,
		CASE WHEN d0.inc_outcome <> 'duplicate' THEN d0.inc_outcome::deposit_state
			WHEN d0.rev_outcome IS NOT NULL THEN d0.rev_outcome::deposit_state
			ELSE d0.eff_status END AS new_status,
		-- a dropped deposit keeps the user it had (for the reversal), the others take the attribution
		CASE WHEN d0.inc_outcome IN ('credited', 'pending', 'unmatched', 'held') THEN d0.user_id
			ELSE d0.old_user END AS new_user,
		d0.old_inclusion + CASE WHEN d0.reincluded AND d0.inc_outcome <> 'held' THEN 1 ELSE 0 END AS new_inclusion,
		CASE WHEN d0.reincluded AND d0.inc_outcome <> 'held' THEN d0.nb ELSE d0.cur END AS new_block,
		CASE WHEN d0.reincluded AND d0.inc_outcome <> 'held' THEN d0.nb_conf
			WHEN d0.dropped OR d0.eff_status IN ('held', 'rejected') THEN d0.old_conf
			ELSE d0.same_conf_total END AS conf,
		CASE WHEN d0.inc_outcome = 'held' THEN
			CASE WHEN d0.n_unproven > 0 THEN 'reinclusion_unproven' ELSE 'block_disagreement' END END AS hold_reason,
		CASE WHEN d0.inc_outcome = 'held' THEN jsonb_build_object(
			'previous_status', COALESCE(d0.rev_outcome, d0.eff_status::text), 'inclusion', d0.old_inclusion,
			'block_number', d0.cur::text, 'removed_blocks', to_jsonb(d0.rb::text[]),
			'candidates', COALESCE(d0.candidates, '{}'),
			'unproven_blocks', to_jsonb(d0.unproven_blocks::text[])) END AS hold_detail
	FROM d0
)`;

/**
 * Inserts the batch's deposit keys not seen before, already in the state its messages put them
 * in: the rules above, applied to a bare `pending` row made from the key's first message in the
 * wallets' currency (a deposit in another currency is never created: it could never be
 * credited). A credit decided here is booked by APPLY_BATCH (ledger row and wallet), once the
 * wallets are locked. Keys are inserted in key order.
 *
 * Every key of the batch is offered; `ON CONFLICT DO NOTHING` skips those that exist, and for a
 * key another batch is inserting it waits for that batch to end and skips it too: the
 * statements after this one settle those as existing deposits. Without a target, every unique
 * index is an arbiter: the id and the key are both unique, and naming one would let a
 * concurrent insert of the same deposit fail on the other instead of waiting for it.
 */
const INSERT_DEPOSITS = `
WITH m AS MATERIALIZED (${INPUT}),
firsts AS (
	SELECT m.*,
		first_value(m.amount) OVER key_first AS d_amount,
		first_value(m.currency) OVER key_first AS d_currency,
		first_value(m.to_address) OVER key_first AS d_to_address,
		first_value(m.webhook_id) OVER key_first AS d_webhook_id,
		first_value(m.metadata) OVER key_first AS d_metadata
	FROM m
	WINDOW key_first AS (PARTITION BY m.tx_id ORDER BY m.currency <> m.wallet_currency, m.i)
),
mm AS (
	SELECT f.*, f.chain AS d_chain, f.tx_hash AS d_tx_hash, f.log_index AS d_log_index,
		'pending'::deposit_state AS d_status, NULL::uuid AS d_user_id, NULL::int AS d_confirmations,
		NULL::bigint AS d_block_number, 1 AS d_inclusion, '{}'::bigint[] AS d_removed_blocks,
		now() AS d_first_seen_at, NULL::text AS d_hold_reason, NULL::jsonb AS d_hold_detail,
		(f.amount = f.d_amount AND f.currency = f.d_currency) AS agrees, false AS inserted_here,
		u.id AS known_user
	FROM firsts f
	LEFT JOIN users u ON u.id = f.user_id
	WHERE f.d_currency = f.wallet_currency
),
${RULES},
inserted AS (
	INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
		confirmations, required_confirmations, block_number, inclusion, removed_blocks, hold_reason, hold_detail,
		webhook_id, metadata, first_seen_at, credited_at, reversed_at)
	SELECT r.id, r.chain, r.tx_hash, r.log_index, r.amount, r.currency, r.to_address, r.new_user,
		r.new_status, r.conf, r.threshold, r.new_block, r.new_inclusion, r.rb, r.hold_reason, r.hold_detail,
		r.webhook_id, r.metadata, r.first_seen_at,
		CASE WHEN r.inc_outcome = 'credited' THEN now() END,
		CASE WHEN r.rev_outcome IS NOT NULL THEN now() END
	FROM ruled r
	ORDER BY r.chain, r.tx_hash, r.log_index
	ON CONFLICT DO NOTHING
	RETURNING id
)
SELECT set_config('${INSERTED_SETTING}', COALESCE(array_agg(id)::text, '{}'), true) FROM inserted`;

/**
 * Locks every deposit of the batch that INSERT_DEPOSITS did not insert, in key order, then
 * creates missing wallets and locks every wallet the batch may move in user order: the
 * deposits' users, the messages' users, and the owners of the deposit addresses involved (an
 * existing user always has a wallet to credit). The deposits inserted here need no lock: no
 * other transaction can touch them before this one ends.
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
const LOCK_ROWS = `
WITH m AS (${INPUT}),
d AS MATERIALIZED (
	SELECT d.chain, d.user_id, d.to_address FROM deposits d
	WHERE d.id = ANY (${BATCH_IDS}) AND NOT (${INSERTED_HERE})
	ORDER BY d.chain, d.tx_hash, d.log_index
	FOR UPDATE
),
candidates AS (
	SELECT array_agg(c.user_id) AS ids FROM (
		SELECT user_id FROM d
		UNION SELECT user_id FROM m
		UNION SELECT a.user_id FROM deposit_addresses a
			JOIN (SELECT chain, to_address FROM m UNION SELECT chain, to_address FROM d) t
			ON ${addressMatchSql("a", "t.chain", "t.to_address")} AND a.user_id IS NOT NULL
	) c
)
INSERT INTO wallets AS w (user_id)
SELECT u.id FROM users u WHERE u.id = ANY ((SELECT ids FROM candidates)::uuid[])
ORDER BY u.id
ON CONFLICT (user_id) DO UPDATE SET updated_at = w.updated_at WHERE false`;

/**
 * With every row it touches locked, decides the transition of each deposit INSERT_DEPOSITS
 * did not insert (the rules above, from its locked row), books every credit and reversal of
 * the batch (ledger rows, wallets, shortfalls, frozen users), records conflicts, and returns
 * one outcome per message. A deposit inserted by this transaction already holds its outcome
 * as its status.
 *
 * Within a batch, credits are applied before reversals, and several reversals for one user
 * draw on the balance in deposit order (a running sum). Each message gets its key's outcome
 * if it is the one that decided it (the first removal, or the first message), else
 * `duplicate`.
 */
const APPLY_BATCH = `
WITH m AS MATERIALIZED (${INPUT}),
dd AS MATERIALIZED (
	SELECT d.id, d.chain, d.tx_hash, d.log_index, d.amount, d.currency, d.status, d.user_id,
		d.confirmations, d.to_address, d.block_number, d.webhook_id,
		d.metadata, d.inclusion, d.removed_blocks, d.first_seen_at, d.hold_reason, d.hold_detail,
		${INSERTED_HERE} AS inserted_here
	FROM deposits d
	WHERE d.id = ANY (${BATCH_IDS})
),
mm AS MATERIALIZED (
	SELECT m.*, dd.id AS deposit_id, dd.chain AS d_chain, dd.tx_hash AS d_tx_hash,
		dd.log_index AS d_log_index, dd.amount AS d_amount, dd.currency AS d_currency,
		dd.status AS d_status, dd.user_id AS d_user_id, dd.confirmations AS d_confirmations,
		dd.to_address AS d_to_address, dd.block_number AS d_block_number,
		dd.webhook_id AS d_webhook_id, dd.metadata AS d_metadata, dd.inclusion AS d_inclusion,
		dd.removed_blocks AS d_removed_blocks, dd.first_seen_at AS d_first_seen_at,
		dd.hold_reason::text AS d_hold_reason, dd.hold_detail AS d_hold_detail, dd.inserted_here,
		(dd.amount = m.amount AND dd.currency = m.currency) AS agrees, u.id AS known_user
	FROM m
	LEFT JOIN dd ON dd.id = m.tx_id
	LEFT JOIN users u ON u.id = m.user_id
),
${RULES},
-- The deposits inserted here already hold their outcome as their status.
dec AS (
	SELECT r.id, r.chain, r.tx_hash, r.log_index, r.amount, r.currency, r.old_status, r.eff_status, r.old_user,
		r.old_conf, r.old_address, r.old_block, r.old_inclusion, r.old_removed, r.conf, r.threshold,
		r.to_address, r.first_i, r.first_removed_i, r.sighting_i, r.rev_outcome, r.inc_outcome, r.new_status,
		r.new_user, r.new_inclusion, r.new_block, r.rb, r.hold_reason, r.hold_detail, r.old_hold_detail,
		false AS inserted_here
	FROM ruled r
	UNION ALL
	SELECT k.id, k.chain, k.tx_hash, k.log_index, k.amount, k.currency, k.old_status, k.old_status, k.old_user,
		k.old_conf, k.old_address, k.old_block, k.old_inclusion, k.old_removed, k.old_conf, k.threshold,
		k.old_address, k.first_i, k.first_removed_i, NULL::int, NULL::text, k.old_status::text, k.old_status,
		k.old_user, k.old_inclusion, k.old_block, k.old_removed, NULL::text, NULL::jsonb, k.old_hold_detail, true
	FROM k
	WHERE k.inserted_here
),
credits AS (
	SELECT id, new_user AS user_id, amount, currency, new_inclusion AS inclusion FROM dec WHERE inc_outcome = 'credited'),
reversals AS (
	SELECT id, old_user AS user_id, amount, currency, old_inclusion AS inclusion FROM dec WHERE rev_outcome = 'reversed'),
-- What a reversal may take back: the deposit balance (with this batch's credits), then the
-- winning balance; never the bonus balance, which is the platform's money, not the player's.
available AS (
	SELECT w.user_id, w.winning_balance AS winning,
		w.deposit_balance + COALESCE((SELECT sum(c.amount) FROM credits c WHERE c.user_id = w.user_id), 0) AS deposit
	FROM wallets w
	WHERE w.user_id IN (SELECT user_id FROM reversals)
),
-- Several reversals of one user draw in deposit order: \`before\` is what the earlier ones asked.
asked AS (
	SELECT r.*, COALESCE(av.deposit, 0) AS deposit_available,
		COALESCE(av.deposit, 0) + COALESCE(av.winning, 0) AS total_available,
		COALESCE(sum(r.amount) OVER (
			PARTITION BY r.user_id ORDER BY r.id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before
	FROM reversals r
	LEFT JOIN available av ON av.user_id = r.user_id
),
taken AS (
	SELECT x.*, LEAST(x.taken, GREATEST(x.deposit_available - LEAST(x.before, x.total_available), 0)) AS from_deposit
	FROM (
		SELECT a.*, LEAST(a.amount, GREATEST(a.total_available - a.before, 0)) AS taken FROM asked a
	) x
),
ledger AS (
	INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata)
	SELECT c.user_id, 'deposit', c.amount, c.currency, 'deposit', c.id,
		jsonb_build_object('chain', dec.chain, 'tx_hash', dec.tx_hash, 'log_index', dec.log_index,
			'confirmations', dec.conf, 'inclusion', c.inclusion, 'block_number', dec.new_block::text)
	FROM credits c JOIN dec ON dec.id = c.id
	UNION ALL
	SELECT t.user_id, 'deposit_reversal', t.taken, t.currency, 'deposit', t.id,
		jsonb_build_object('reason', 'reorg', 'inclusion', t.inclusion,
			'shortfall', (t.amount - t.taken)::numeric(30, 8)::text,
			'from_deposit', t.from_deposit::numeric(30, 8)::text,
			'from_winning', (t.taken - t.from_deposit)::numeric(30, 8)::text)
	FROM taken t WHERE t.taken > 0
	RETURNING 1
),
moves AS (
	SELECT user_id, sum(deposit_delta) AS deposit_delta, sum(winning_delta) AS winning_delta
	FROM (
		SELECT user_id, amount AS deposit_delta, 0 AS winning_delta FROM credits
		UNION ALL SELECT user_id, -from_deposit, -(taken - from_deposit) FROM taken WHERE taken > 0
	) x
	WHERE user_id IS NOT NULL
	GROUP BY user_id
),
wallet_moves AS (
	UPDATE wallets w SET deposit_balance = w.deposit_balance + moves.deposit_delta,
		winning_balance = w.winning_balance + moves.winning_delta, updated_at = now()
	FROM moves
	WHERE w.user_id = moves.user_id AND (moves.deposit_delta <> 0 OR moves.winning_delta <> 0)
	RETURNING 1
),
shortfalls AS (
	-- froze_user: this shortfall is what freezes the player (the frozen step below, same snapshot).
	INSERT INTO reversal_shortfalls (deposit_id, inclusion, user_id, shortfall, currency, froze_user)
	SELECT t.id, t.inclusion, t.user_id, t.amount - t.taken, t.currency,
		EXISTS (SELECT 1 FROM users u WHERE u.id = t.user_id AND u.status = 'ACTIVE')
	FROM taken t WHERE t.taken < t.amount
	ON CONFLICT (deposit_id, inclusion) DO NOTHING
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
		user_id = dec.new_user,
		to_address = dec.to_address,
		block_number = dec.new_block,
		inclusion = dec.new_inclusion,
		removed_blocks = dec.rb,
		hold_reason = dec.hold_reason,
		hold_detail = dec.hold_detail,
		required_confirmations = CASE WHEN d.status IN ('pending', 'unmatched') OR dec.new_inclusion <> dec.old_inclusion
			THEN dec.threshold ELSE d.required_confirmations END,
		credited_at = CASE WHEN dec.inc_outcome = 'credited' THEN now() ELSE d.credited_at END,
		reversed_at = CASE WHEN dec.rev_outcome IS NOT NULL THEN now() ELSE d.reversed_at END,
		updated_at = now()
	FROM dec
	WHERE d.id = dec.id
		AND NOT dec.inserted_here
		AND dec.eff_status NOT IN ('held', 'rejected')
		AND (dec.new_status <> dec.old_status
			OR dec.conf IS DISTINCT FROM dec.old_conf
			OR dec.new_user IS DISTINCT FROM dec.old_user
			OR dec.to_address IS DISTINCT FROM dec.old_address
			OR dec.new_block IS DISTINCT FROM dec.old_block
			OR dec.new_inclusion <> dec.old_inclusion
			OR dec.rb <> dec.old_removed
			OR dec.hold_detail IS DISTINCT FROM dec.old_hold_detail)
	RETURNING 1
),
conflicts AS (
	INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload)
	SELECT DISTINCT ON (mm.tx_id, mm.amount, mm.currency)
		mm.tx_id, mm.amount, mm.currency, mm.webhook_id, ${storedBody("mm.i")}
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
		${storedBody("mm.i")}, mm.attempts
	FROM mm WHERE mm.deposit_id IS NULL
	ORDER BY mm.message_id
	ON CONFLICT (message_id) DO NOTHING
	RETURNING 1
)
SELECT mm.i,
	CASE
		-- LOCK_ROWS created every wallet this can move; should one be missing all the same,
		-- abort the whole transaction (a failed cast) rather than commit a credit without it.
		WHEN (SELECT count(*) FROM wallet_moves)
				<> (SELECT count(*) FROM moves WHERE deposit_delta <> 0 OR winning_delta <> 0)
			-- (mm.i keeps the cast from being folded, and raised, at plan time)
			THEN ('settlement aborted: a wallet to move is missing, message ' || mm.i)::int::text
		-- Every deposit INSERT_DEPOSITS inserted must have its outcome booked here (a credit
		-- without its ledger row must never commit): same guard, should the two ever disagree.
		WHEN (SELECT count(*) FROM dd WHERE dd.inserted_here) <> (SELECT count(*) FROM k WHERE k.inserted_here)
			THEN ('settlement aborted: a deposit inserted here has no outcome, message ' || mm.i)::int::text
		WHEN mm.deposit_id IS NULL THEN 'dead_letter'
		WHEN NOT mm.agrees THEN 'conflict'
		WHEN mm.i = dec.first_removed_i AND dec.rev_outcome IS NOT NULL THEN dec.rev_outcome
		WHEN mm.i = COALESCE(dec.sighting_i, dec.first_i) THEN dec.inc_outcome
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
