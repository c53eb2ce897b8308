/**
 * `POST /api/v1/admin/deposits/conflicts/:id/resolve` `{note}`: an admin marks a conflict (a
 * delivery that disagreed with a known deposit) as reviewed, with a note saying what was found.
 * Nothing in the ledger moves: the deposit keeps what it was credited with, and the conflicting
 * delivery stays recorded; the deposit's status stops reporting the conflict.
 *
 * Race-safe and idempotent: the conflict is marked and the audit row written by one statement,
 * only while it is unresolved, so of two admins resolving it at once one wins (200) and the other
 * gets 409, as does a repeat.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError } from "../../../../shared/http/errors";
import { jsonBody, pathParam } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";

export const resolveConflictSchema = z.object({
	note: z.string().check(z.trim(), z.minLength(1, "say what was found"), z.maxLength(1000)),
});

const RESOLVE = `
WITH resolved AS (
	UPDATE deposit_conflicts SET resolved_at = now()
	WHERE id = $1 AND resolved_at IS NULL AND EXISTS (SELECT 1 FROM admins WHERE id = $2)
	RETURNING id, deposit_id, amount::text AS amount, currency, webhook_id
)
INSERT INTO audit_logs (admin_id, action, details)
SELECT $2, 'deposit_conflict.resolve', jsonb_build_object('conflict_id', r.id, 'tx_id', r.deposit_id,
	'note', $3::text, 'amount', r.amount, 'currency', r.currency, 'webhook_id', r.webhook_id)
FROM resolved r
RETURNING id, details->>'tx_id' AS tx_id`;

const WHY_NOT = `
SELECT (SELECT id FROM admins WHERE id = $2) AS admin_id, c.id, ${isoTimestamp("c.resolved_at")} AS resolved_at
FROM (SELECT 1) one LEFT JOIN deposit_conflicts c ON c.id = $1`;

export const conflictResolution = new Hono<AuthedEnv>().post("/:id/resolve", async (c) => {
	const id = pathParam(c, "id", z.uuid()).toLowerCase();
	const { note } = await jsonBody(c, resolveConflictSchema);
	const adminId = c.var.auth.sub;
	const db = database(c.env);
	const [audit] = await db.query<{ id: string; tx_id: string }>(RESOLVE, [id, adminId, note]);
	if (audit) {
		return c.json({ ok: true as const, conflict_id: id, tx_id: audit.tx_id, audit_log_id: audit.id });
	}
	const [row] = await db.query<{ admin_id: string | null; id: string | null; resolved_at: string | null }>(
		WHY_NOT,
		[id, adminId],
	);
	if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
	if (!row.id) throw new ApiError("not_found", "no conflict with this id");
	throw new ApiError("conflict", `this conflict was already resolved at ${row.resolved_at}`, {
		resolved_at: row.resolved_at,
	});
});
