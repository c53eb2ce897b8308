/**
 * Pausing settlement: `GET /api/v1/admin/settlement` says whether it is paused (since when, by
 * whom, why); `POST /settlement/pause` and `POST /settlement/resume` `{reason}` change it. While
 * paused, webhooks are still accepted and queued, and the consumer credits nothing: it puts each
 * batch back on the queue until the resume (queue-consumer/src/settlement-pause.ts), so nothing
 * is lost and nothing is credited twice.
 *
 * Idempotent and race-safe: the change and its audit row (`settlement.pause`,
 * `settlement.resume`) are one statement that acts only if the state differs, so of two admins
 * pausing at once one pauses and the other is told it was already paused (`changed: false`, no
 * audit row: nothing changed). In production, `ops settlement pause --env …` also pauses the
 * queue's delivery through Cloudflare's API; this route is the state every environment shares.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { type AccountsDatabase, database } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";

export const settlementChangeSchema = z.object({
	reason: z.string().check(z.trim(), z.minLength(5, "say why, in at least 5 characters"), z.maxLength(1000)),
});

const ADMIN_EXISTS = "EXISTS (SELECT 1 FROM admins WHERE id = $1)";

const PAUSE = `
WITH paused AS (
	INSERT INTO settlement_pause (paused_by, reason)
	SELECT $1, $2 WHERE ${ADMIN_EXISTS}
	ON CONFLICT (singleton) DO NOTHING
	RETURNING paused_at
)
INSERT INTO audit_logs (admin_id, action, details)
SELECT $1, 'settlement.pause', jsonb_build_object('reason', $2::text, 'paused_at', ${isoTimestamp("paused_at")})
FROM paused
RETURNING id`;

const RESUME = `
WITH resumed AS (
	DELETE FROM settlement_pause WHERE ${ADMIN_EXISTS} RETURNING paused_at, paused_by, reason
)
INSERT INTO audit_logs (admin_id, action, details)
SELECT $1, 'settlement.resume', jsonb_build_object('reason', $2::text,
	'paused_at', ${isoTimestamp("r.paused_at")}, 'paused_by', r.paused_by, 'pause_reason', r.reason,
	'paused_seconds', round(extract(epoch FROM now() - r.paused_at)::numeric, 3))
FROM resumed r
RETURNING id`;

const STATE = `
SELECT ${ADMIN_EXISTS} AS admin_exists, ${isoTimestamp("p.paused_at")} AS paused_at, p.reason,
	p.paused_by, a.username AS paused_by_username
FROM (SELECT 1) one
LEFT JOIN settlement_pause p ON true
LEFT JOIN admins a ON a.id = p.paused_by`;

type StateRow = {
	admin_exists: boolean;
	paused_at: string | null;
	reason: string | null;
	paused_by: string | null;
	paused_by_username: string | null;
};

/** Whether settlement is paused, as the API and the console show it. */
export interface SettlementState {
	paused: boolean;
	paused_at: string | null;
	paused_by: { id: string | null; username: string | null } | null;
	reason: string | null;
}

/** Reads the state; the console's home page shows it too. */
export async function settlementState(db: AccountsDatabase, adminId: string): Promise<SettlementState> {
	const [row] = await db.query<StateRow>(STATE, [adminId]);
	if (!row?.admin_exists) throw new ApiError("unauthorized", "this admin account no longer exists");
	return {
		paused: row.paused_at !== null,
		paused_at: row.paused_at,
		paused_by: row.paused_at ? { id: row.paused_by, username: row.paused_by_username } : null,
		reason: row.reason,
	};
}

/** Pauses or resumes; answers the state after the change, and whether this call changed it. */
async function change(c: Context<AuthedEnv>, action: "pause" | "resume") {
	const { reason } = await jsonBody(c, settlementChangeSchema);
	const adminId = c.var.auth.sub;
	const db = database(c.env);
	const [audit] = await db.query<{ id: string }>(action === "pause" ? PAUSE : RESUME, [adminId, reason]);
	const state = await settlementState(db, adminId);
	return c.json({ ok: true as const, changed: Boolean(audit), audit_log_id: audit?.id ?? null, ...state });
}

export const settlement = new Hono<AuthedEnv>()
	.get("/", async (c) =>
		c.json({ ok: true as const, ...(await settlementState(database(c.env), c.var.auth.sub)) }),
	)
	.post("/pause", (c) => change(c, "pause"))
	.post("/resume", (c) => change(c, "resume"));
