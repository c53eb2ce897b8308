/**
 * `POST /deposits/:tx_id/assign` `{user_id}`: an admin attributes one unmatched (parked) deposit
 * to a player.
 *
 * The decision is taken in Postgres, in one statement, before anything is answered: the
 * deposit row is locked, claimed for the player (`user_id` set while it is still `unmatched`
 * and nobody's), and one `deposit.assign` audit row records the attempt with its outcome:
 *
 * - `assigned`: this request claimed it; 202, and a message wakes settlement, which credits
 *   the player the row now names (once, through its normal path, never before the chain's
 *   threshold and, where the chain is checked, only once the chain agrees);
 * - `already_assigned`: it was claimed for this same player before (a retry, e.g. after a
 *   queue outage); 202, and the message is sent again (settlement is idempotent);
 * - `refused`: it is claimed for another player, or no longer unmatched; 409 naming its state.
 *
 * However many admins assign one deposit at once, exactly one claim wins, and no audit row
 * names as assigned a player the deposit was not given to. Settlement credits a parked deposit
 * only to the owner its row names, so a message alone (a stale one, or a sender's `user_id`)
 * cannot move it.
 *
 * @module
 */
import { Hono } from "hono";
import type { DepositRow } from "../../../../schema/tables";
import * as z from "../../../../schema/zod";
import { queueUnavailable, sendDeposit } from "../../../../shared/deposit-queue";
import { ApiError, validationFailed } from "../../../../shared/http/errors";
import { jsonBody, pathParam } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { type StoredDeposit, settlementMessage, storedDepositColumns } from "../../lib/settlement-message";

/**
 * $1 tx_id, $2 player, $3 admin, $4 the audit row's id, $5 the webhook id a sent message carries.
 *
 * `cur` locks the deposit and, under READ COMMITTED, returns its latest committed version (a
 * concurrent claim is waited for, then seen), so the outcome is decided on the current row.
 * The admin and the player must exist for anything to be locked, claimed or audited.
 */
const ASSIGN = `
WITH adm AS (SELECT id FROM admins WHERE id = $3),
usr AS (SELECT id FROM users WHERE id = $2),
cur AS MATERIALIZED (
	SELECT ${storedDepositColumns("d")}, d.status::text AS status, d.user_id
	FROM deposits d
	WHERE d.id = $1 AND EXISTS (SELECT 1 FROM adm) AND EXISTS (SELECT 1 FROM usr)
	FOR UPDATE
),
claim AS (
	UPDATE deposits d SET user_id = $2, updated_at = now()
	FROM cur
	WHERE d.id = cur.id AND cur.status = 'unmatched' AND cur.user_id IS NULL
	RETURNING d.id
),
decided AS (
	SELECT cur.*,
		CASE WHEN EXISTS (SELECT 1 FROM claim) THEN 'assigned'
			WHEN cur.status = 'unmatched' AND cur.user_id = $2 THEN 'already_assigned'
			ELSE 'refused' END AS outcome
	FROM cur
),
log AS (
	INSERT INTO audit_logs (id, admin_id, action, details)
	SELECT $4, adm.id, 'deposit.assign', jsonb_build_object(
		'tx_id', x.id, 'requested_user_id', $2::uuid, 'outcome', x.outcome,
		'deposit_status', x.status,
		-- who holds the deposit after this attempt: the player when claimed, else whoever did
		'assigned_user_id', CASE WHEN x.outcome = 'refused' THEN x.user_id ELSE $2::uuid END,
		'chain', x.chain, 'tx_hash', x.tx_hash, 'log_index', x.log_index, 'amount', x.amount,
		'currency', x.currency, 'confirmations', x.confirmations,
		'webhook_id', CASE WHEN x.outcome = 'refused' THEN NULL ELSE $5::text END)
	FROM adm, decided x
	RETURNING id
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM usr) AS assignee,
	(SELECT id FROM deposits WHERE id = $1) AS found, (SELECT id FROM log) AS audit_log_id, decided.*
FROM (SELECT 1) AS one LEFT JOIN decided ON true`;

const AUDIT_FAILED = `
INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'deposit.assign_failed', $2::jsonb)`;

type AssignRow = Partial<StoredDeposit> & {
	admin_id: string | null;
	assignee: string | null;
	found: string | null;
	audit_log_id: string | null;
	status: DepositRow["status"] | null;
	user_id: DepositRow["userId"];
	outcome: "assigned" | "already_assigned" | "refused" | null;
};

/** The 409 of a deposit that cannot be assigned, naming where it stands. */
function refusal(row: AssignRow): ApiError {
	const state =
		row.status === "unmatched"
			? `already assigned to player ${row.user_id}, waiting for settlement`
			: row.user_id
				? `${row.status} (player ${row.user_id})`
				: `${row.status}`;
	return new ApiError(
		"conflict",
		`the deposit is ${state}; only an unmatched deposit nobody holds can be assigned`,
		{ deposit_status: row.status, user_id: row.user_id, audit_log_id: row.audit_log_id },
	);
}

/** The body: the player to give the deposit to. */
export const assignSchema = z.object({
	user_id: z.pipe(
		z.uuid(),
		z.transform((s: string) => s.toLowerCase()),
	),
});

export const depositAssign = new Hono<AuthedEnv>().post("/:tx_id/assign", async (c) => {
	const txId = pathParam(c, "tx_id", z.uuid()).toLowerCase();
	const { user_id: userId } = await jsonBody(c, assignSchema);
	const adminId = c.var.auth.sub;
	const db = database(c.env);
	const auditId = crypto.randomUUID();
	const webhookId = `admin-assign:${auditId}`;

	const [row] = await db.query<AssignRow>(ASSIGN, [txId, userId, adminId, auditId, webhookId]);
	if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
	if (!row.found) throw new ApiError("not_found", "no deposit with this tx_id");
	if (!row.assignee) {
		throw validationFailed("user_id names no user", [{ path: "user_id", message: "no such user" }]);
	}
	if (row.outcome !== "assigned" && row.outcome !== "already_assigned") throw refusal(row);

	const message = settlementMessage(row as AssignRow & StoredDeposit, userId, webhookId);
	if (!(await sendDeposit(c.env.DEPOSITS, message))) {
		await db
			.query(AUDIT_FAILED, [
				adminId,
				JSON.stringify({
					tx_id: txId,
					assigned_user_id: userId,
					audit_log_id: auditId,
					webhook_id: webhookId,
				}),
			])
			.catch((error) => console.error("could not record the failed assign:", error));
		throw queueUnavailable(
			`the deposit is assigned to player ${userId}, but the message that settles it could not be queued; retry the same assign to send it`,
		);
	}
	return c.json(
		{ ok: true as const, tx_id: txId, user_id: userId, outcome: row.outcome, audit_log_id: auditId },
		202,
	);
});
