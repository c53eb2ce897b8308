/**
 * The shortfalls queue. A reorg took back a credited deposit, and the player's wallet could not
 * cover all of it (deposit, then winning balance; never below zero): settlement booked what it
 * could, recorded the rest in `reversal_shortfalls` and froze the player (settle-sql.ts), so a
 * frozen player can sign in but the platform knows they owe money.
 *
 * - `GET /api/v1/admin/shortfalls?limit=`: the open shortfalls, oldest first, each with its
 *   deposit, its player, their status and how many open shortfalls they have.
 * - `POST /shortfalls/:id/resolve` `{note, unfreeze?}`: an admin records what was done (money
 *   recovered off the ledger, written off, …) and, unless `unfreeze: false`, sets the player back
 *   to ACTIVE, but only when no other open shortfall of theirs remains, and only when a shortfall
 *   is what froze them (`froze_user`): a player the platform froze for another reason stays
 *   frozen. Resolving one of several hands that mark on to the oldest still open, so the last
 *   one resolved carries it. The ledger does not move.
 *
 * Race-safe and idempotent: one transaction first locks the player's row, then marks the
 * shortfall, unfreezes and writes the audit row (`reversal_shortfall.resolve`) in one statement
 * that acts only while the shortfall is open. Of two admins resolving one shortfall, one wins
 * (200) and the other gets 409, as does a repeat. Two admins resolving the player's last two
 * shortfalls at once are serialised by the lock, so the second sees the first resolved and
 * unfreezes; a reversal that freezes the player meanwhile either commits first (its shortfall is
 * seen, nobody is unfrozen) or waits for the lock and freezes them again.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError } from "../../../../shared/http/errors";
import { jsonBody, pathParam, queryInput } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";

export const resolveShortfallSchema = z.object({
	note: z
		.string()
		.check(z.trim(), z.minLength(10, "say what was done, in at least 10 characters"), z.maxLength(1000)),
	unfreeze: z._default(z.boolean(), true),
});

export const listQuery = z.object({
	limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(100)), 50),
});

const OPEN = `
SELECT s.id, s.deposit_id AS tx_id, s.inclusion, s.shortfall::text AS shortfall, s.currency, s.user_id,
	u.username, u.status::text AS user_status, d.chain, d.tx_hash, d.amount::text AS deposit_amount,
	${isoTimestamp("s.created_at")} AS created_at,
	(SELECT count(*) FROM reversal_shortfalls o WHERE o.user_id = s.user_id AND o.resolved_at IS NULL)::int
		AS open_for_player
FROM reversal_shortfalls s
LEFT JOIN users u ON u.id = s.user_id
LEFT JOIN deposits d ON d.id = s.deposit_id
WHERE s.resolved_at IS NULL
ORDER BY s.created_at, s.id
LIMIT $1`;

/** Holds the player's row until the transaction ends: resolutions of one player go one at a time. */
const LOCK_PLAYER = `
SELECT 1 FROM users WHERE id = (SELECT user_id FROM reversal_shortfalls WHERE id = $1) FOR UPDATE`;

/** $1 shortfall, $2 admin, $3 note, $4 whether to unfreeze. Runs on a snapshot taken after the lock. */
const RESOLVE = `
WITH resolved AS (
	UPDATE reversal_shortfalls SET resolved_at = now()
	WHERE id = $1 AND resolved_at IS NULL AND EXISTS (SELECT 1 FROM admins WHERE id = $2)
	RETURNING id, deposit_id, inclusion, user_id, shortfall::text AS shortfall, currency, froze_user
),
others AS (
	SELECT count(*)::int AS n FROM reversal_shortfalls s, resolved r
	WHERE s.user_id = r.user_id AND s.resolved_at IS NULL AND s.id <> r.id
),
handed_on AS (
	UPDATE reversal_shortfalls s SET froze_user = true
	FROM resolved r
	WHERE r.froze_user AND s.id = (
		SELECT o.id FROM reversal_shortfalls o
		WHERE o.user_id = r.user_id AND o.resolved_at IS NULL AND o.id <> r.id
		ORDER BY o.created_at, o.id LIMIT 1)
	RETURNING s.id
),
unfrozen AS (
	UPDATE users u SET status = 'ACTIVE'
	FROM resolved r
	WHERE u.id = r.user_id AND u.status = 'FROZEN' AND r.froze_user AND $4::boolean
		AND (SELECT n FROM others) = 0
	RETURNING u.id
),
log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT $2, 'reversal_shortfall.resolve', jsonb_build_object('shortfall_id', r.id, 'tx_id', r.deposit_id,
		'inclusion', r.inclusion, 'user_id', r.user_id, 'shortfall', r.shortfall, 'currency', r.currency,
		'note', $3::text, 'unfreeze_asked', $4::boolean, 'unfrozen', EXISTS (SELECT 1 FROM unfrozen),
		'froze_player', r.froze_user, 'other_open_shortfalls', (SELECT n FROM others))
	FROM resolved r
	RETURNING id
)
SELECT (SELECT id FROM log) AS audit_log_id, r.deposit_id AS tx_id, r.user_id,
	EXISTS (SELECT 1 FROM unfrozen) AS unfrozen, r.froze_user AS froze_player,
	(SELECT n FROM others) AS other_open_shortfalls,
	CASE WHEN EXISTS (SELECT 1 FROM unfrozen) THEN 'ACTIVE' ELSE (SELECT status::text FROM users WHERE id = r.user_id) END
		AS user_status
FROM resolved r`;

const WHY_NOT = `
SELECT (SELECT id FROM admins WHERE id = $2) AS admin_id, s.id, ${isoTimestamp("s.resolved_at")} AS resolved_at
FROM (SELECT 1) one LEFT JOIN reversal_shortfalls s ON s.id = $1`;

type Resolved = {
	audit_log_id: string;
	tx_id: string;
	user_id: string | null;
	unfrozen: boolean;
	/** Whether this shortfall (or one resolved before it) is what froze the player. */
	froze_player: boolean;
	other_open_shortfalls: number;
	user_status: string | null;
};

export const shortfalls = new Hono<AuthedEnv>()
	.get("/", async (c) => {
		const { limit } = queryInput(c, listQuery);
		const items = await database(c.env).query(OPEN, [limit]);
		return c.json({ ok: true as const, items });
	})
	.post("/:id/resolve", async (c) => {
		const id = pathParam(c, "id", z.uuid()).toLowerCase();
		const { note, unfreeze } = await jsonBody(c, resolveShortfallSchema);
		const adminId = c.var.auth.sub;
		const db = database(c.env);
		const [, rows] = await db.batch([
			{ text: LOCK_PLAYER, params: [id] },
			{ text: RESOLVE, params: [id, adminId, note, unfreeze] },
		]);
		const done = rows?.[0] as Resolved | undefined;
		if (done) {
			return c.json({ ok: true as const, shortfall_id: id, ...done });
		}
		const [row] = await db.query<{ admin_id: string | null; id: string | null; resolved_at: string | null }>(
			WHY_NOT,
			[id, adminId],
		);
		if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
		if (!row.id) throw new ApiError("not_found", "no shortfall with this id");
		throw new ApiError("conflict", `this shortfall was already resolved at ${row.resolved_at}`, {
			resolved_at: row.resolved_at,
		});
	});
