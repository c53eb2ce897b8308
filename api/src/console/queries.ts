/**
 * What the console reads: the search, a deposit's whole story, a player, the audit log and the
 * size of each review queue. Read-only statements, each page in one round trip.
 *
 * @module
 */
import type { AccountsDatabase } from "../lib/database";
import { isoTimestamp } from "../lib/pagination";

type Row = Record<string, unknown>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const DEPOSIT_COLUMNS = `d.id, d.chain, d.tx_hash, d.log_index, d.amount::text AS amount, d.currency,
	d.status::text AS status, d.confirmations, d.required_confirmations, d.to_address, d.user_id,
	u.username, d.webhook_id, ${isoTimestamp("d.first_seen_at")} AS first_seen_at,
	${isoTimestamp("d.updated_at")} AS updated_at`;

// $1 the text as typed (trimmed), $2 lower-cased, $3 as a uuid or NULL. Each branch is an
// indexed lookup: deposits by id, key or webhook id; a delivery's webhook id; a deposit address.
const FIND_DEPOSITS = `
SELECT ${DEPOSIT_COLUMNS} FROM deposits d LEFT JOIN users u ON u.id = d.user_id
WHERE d.id = $3::uuid OR d.tx_hash = $2 OR d.webhook_id = $1 OR d.to_address = $2 OR d.to_address = $1
	OR d.id IN (SELECT deposit_id FROM deposit_deliveries WHERE webhook_id = $1)
	OR d.id IN (SELECT tx_id FROM dead_letters WHERE id = $3::uuid OR message_id = $1)
	OR d.user_id = $3::uuid
ORDER BY d.first_seen_at DESC LIMIT 100`;

const FIND_PLAYERS = `
SELECT u.id, u.username, u.telegram_id::text AS telegram_id, u.status::text AS status,
	w.deposit_balance::text AS deposit_balance
FROM users u LEFT JOIN wallets w ON w.user_id = u.id
WHERE u.id = $3::uuid OR lower(u.username) = $2 OR ($4::bigint IS NOT NULL AND u.telegram_id = $4::bigint AND u.telegram_id <> 0)
	OR u.id IN (SELECT user_id FROM deposit_addresses WHERE address = $2 OR address = $1)
ORDER BY u.username LIMIT 20`;

/** Deposits and players that `text` names, whatever kind of name it is. */
export async function find(db: AccountsDatabase, text: string) {
	const q = text.trim();
	const uuid = UUID.test(q) ? q.toLowerCase() : null;
	const telegramId = /^\d{1,18}$/.test(q) ? q : null;
	const params = [q, q.toLowerCase(), uuid];
	const [deposits, players] = await db.batch(
		[
			{ text: FIND_DEPOSITS, params },
			{ text: FIND_PLAYERS, params: [...params, telegramId] },
		],
		true,
	);
	return { deposits: deposits as Row[], players: players as Row[] };
}

const STORY = {
	deposit: `SELECT ${DEPOSIT_COLUMNS}, d.block_number::text AS block_number, d.block_hash, d.inclusion,
		d.hold_reason, d.hold_detail, d.metadata, ${isoTimestamp("d.credited_at")} AS credited_at,
		${isoTimestamp("d.reversed_at")} AS reversed_at, ${isoTimestamp("d.chain_checked_at")} AS chain_checked_at
		FROM deposits d LEFT JOIN users u ON u.id = d.user_id WHERE d.id = $1`,
	deliveries: `SELECT webhook_id, message_id, attempts, status, confirmations, amount::text AS amount, currency,
		source, edge_version, consumer_version, ${isoTimestamp("received_at")} AS received_at,
		${isoTimestamp("recorded_at")} AS recorded_at
		FROM deposit_deliveries WHERE deposit_id = $1 ORDER BY received_at, recorded_at`,
	ledger: `SELECT t.id, t.tx_type, t.amount::text AS amount, t.currency, t.user_id, u.username,
		${isoTimestamp("t.created_at")} AS created_at
		FROM transactions t LEFT JOIN users u ON u.id = t.user_id
		WHERE t.related_entity = 'deposit' AND t.related_id = $1 ORDER BY t.created_at, t.id`,
	conflicts: `SELECT id, amount::text AS amount, currency, webhook_id, ${isoTimestamp("created_at")} AS created_at,
		${isoTimestamp("resolved_at")} AS resolved_at FROM deposit_conflicts WHERE deposit_id = $1 ORDER BY created_at`,
	shortfalls: `SELECT id, shortfall::text AS shortfall, currency, user_id, ${isoTimestamp("created_at")} AS created_at,
		${isoTimestamp("resolved_at")} AS resolved_at FROM reversal_shortfalls WHERE deposit_id = $1 ORDER BY created_at`,
	deadLetters: `SELECT id, source, reason, attempts, ${isoTimestamp("created_at")} AS created_at,
		${isoTimestamp("redriven_at")} AS redriven_at FROM dead_letters WHERE tx_id = $1 ORDER BY created_at`,
	audit: `SELECT l.id, l.action, l.details, a.username AS admin, ${isoTimestamp("l.created_at")} AS created_at
		FROM audit_logs l LEFT JOIN admins a ON a.id = l.admin_id
		WHERE l.details->>'tx_id' = $1::text OR l.details->>'deposit_id' = $1::text
		ORDER BY l.created_at, l.id`,
};

/** Everything known about one deposit, or null when there is no such deposit. */
export async function depositStory(db: AccountsDatabase, txId: string) {
	const parts = Object.keys(STORY) as (keyof typeof STORY)[];
	const results = await db.batch(
		parts.map((p) => ({ text: STORY[p], params: [txId] })),
		true,
	);
	const story = Object.fromEntries(parts.map((p, i) => [p, results[i] as Row[]])) as Record<
		keyof typeof STORY,
		Row[]
	>;
	if (!story.deposit.length && !story.deliveries.length && !story.deadLetters.length) return null;
	return { ...story, deposit: story.deposit[0] ?? null };
}

const PLAYER = {
	user: `SELECT u.id, u.username, u.telegram_id::text AS telegram_id, u.status::text AS status,
		${isoTimestamp("u.created_at")} AS created_at, w.deposit_balance::text AS deposit_balance,
		w.winning_balance::text AS winning_balance, w.bonus_balance::text AS bonus_balance
		FROM users u LEFT JOIN wallets w ON w.user_id = u.id WHERE u.id = $1`,
	addresses: `SELECT family, address, origin, ${isoTimestamp("issued_at")} AS issued_at FROM deposit_addresses
		WHERE user_id = $1 ORDER BY family, address`,
	deposits: `SELECT ${DEPOSIT_COLUMNS} FROM deposits d LEFT JOIN users u ON u.id = d.user_id
		WHERE d.user_id = $1 ORDER BY d.first_seen_at DESC LIMIT 100`,
};

/** A player, their wallet, addresses and latest deposits; null when there is no such player. */
export async function player(db: AccountsDatabase, userId: string) {
	const [user, addresses, deposits] = await db.batch(
		[PLAYER.user, PLAYER.addresses, PLAYER.deposits].map((text) => ({ text, params: [userId] })),
		true,
	);
	if (!user?.length) return null;
	return { user: user[0] as Row, addresses: addresses as Row[], deposits: deposits as Row[] };
}

/** Players an operator may mean by `text` (username, Telegram id or id), for an assignment. */
export async function lookUpPlayers(db: AccountsDatabase, text: string) {
	return (await find(db, text)).players;
}

const AUDIT = `
SELECT l.id, l.action, l.details, a.username AS admin, ${isoTimestamp("l.created_at")} AS created_at
FROM audit_logs l LEFT JOIN admins a ON a.id = l.admin_id
WHERE ($1::text IS NULL OR starts_with(l.action, $1)) AND ($2::timestamptz IS NULL OR l.created_at < $2)
ORDER BY l.created_at DESC, l.id DESC LIMIT 100`;

/** The latest hundred audit rows, optionally of actions starting with `action`, before `before`. */
export async function auditLog(db: AccountsDatabase, action: string | null, before: string | null) {
	return db.query(AUDIT, [action, before]);
}

const QUEUES = `
SELECT (SELECT count(*) FROM deposits WHERE status = 'unmatched')::int AS unmatched,
	(SELECT count(*) FROM deposits WHERE status = 'held')::int AS held,
	(SELECT count(*) FROM deposit_conflicts WHERE resolved_at IS NULL)::int AS conflicts,
	(SELECT count(*) FROM reversal_shortfalls WHERE resolved_at IS NULL)::int AS shortfalls,
	(SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL)::int AS dead_letters`;

/** How many items wait in each review queue. */
export async function queueSizes(db: AccountsDatabase) {
	const [row] =
		await db.query<Record<"unmatched" | "held" | "conflicts" | "shortfalls" | "dead_letters", number>>(
			QUEUES,
		);
	return row!;
}
