/**
 * `POST /deposits/:tx_id/review` `{decision, reason, user_id?}`: an admin resolves a deposit
 * held for review (`GET /deposits?status=held` lists them with `hold_reason` and
 * `hold_detail`). A reason is always required; it is stored on the deposit and in the audit.
 *
 * - `reject`: the deposit becomes `rejected`, final: never credited, whatever is delivered for
 *   it later. The expected answer to a `chain_mismatch` (the chain does not show the transfer
 *   the webhook claimed).
 * - `release`: the deposit goes back to settlement's normal path, which decides as it would
 *   have: where its owner is fixed on the row, the reviewer must confirm it (`user_id` equal to
 *   that owner) and the deposit becomes `pending` for that owner, a message waking settlement
 *   (credited once, at the chain's threshold and, where the chain is checked, only if the chain
 *   agrees: a mismatch that still holds is held again, never credited by a release). A deposit
 *   without an owner is released to `unmatched`, parked for an assign; a release never chooses
 *   an owner.
 *
 * One statement locks the deposit, decides on its current row, changes it and writes one
 * `deposit.review` audit row with the reviewer, the reason and the outcome (`rejected`,
 * `released`, `already_released` for the same reviewer retrying their release, or `refused`), so
 * of concurrent reviews exactly one resolves it; the others get 409 naming where it stands.
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

export const reviewSchema = z.object({
	decision: z.enum(["release", "reject"]),
	reason: z
		.string()
		.check(z.trim(), z.minLength(10, "say why, in at least 10 characters"), z.maxLength(1000)),
	user_id: z.optional(
		z.pipe(
			z.uuid(),
			z.transform((s: string) => s.toLowerCase()),
		),
	),
});

/**
 * $1 tx_id, $2 admin, $3 decision, $4 reason, $5 the owner the reviewer confirms (or NULL),
 * $6 the audit row's id, $7 the webhook id a sent message carries.
 *
 * The outcome: `rejected` for a reject of a held deposit; `released` for a release of a held
 * deposit whose owner the reviewer named exactly (NULL for none); `already_released`: the same reviewer's release retried while
 * the deposit waits for settlement (the message is sent again, e.g. after a queue outage).
 */
const REVIEW = `
WITH adm AS (SELECT id FROM admins WHERE id = $2),
cur AS MATERIALIZED (
	SELECT ${storedDepositColumns("d")}, d.status::text AS status, d.user_id, d.hold_reason, d.hold_detail,
		d.review_decision, d.reviewed_by
	FROM deposits d
	WHERE d.id = $1 AND EXISTS (SELECT 1 FROM adm)
	FOR UPDATE
),
decided AS (
	SELECT cur.*,
		CASE
			WHEN cur.status = 'held' AND $3 = 'reject' THEN 'rejected'
			WHEN cur.status = 'held' AND $3 = 'release' AND cur.user_id IS NOT DISTINCT FROM $5::uuid THEN 'released'
			WHEN cur.status = 'pending' AND cur.review_decision = 'released' AND $3 = 'release'
				AND cur.user_id = $5::uuid AND cur.reviewed_by = $2 THEN 'already_released'
			ELSE 'refused'
		END AS outcome
	FROM cur
),
changed AS (
	UPDATE deposits d SET
		status = CASE WHEN x.outcome = 'rejected' THEN 'rejected'::deposit_state
			WHEN x.user_id IS NULL THEN 'unmatched'::deposit_state ELSE 'pending'::deposit_state END,
		review_decision = x.outcome, reviewed_by = $2, reviewed_at = now(), review_reason = $4,
		updated_at = now()
	FROM decided x
	WHERE d.id = x.id AND x.outcome IN ('rejected', 'released')
	RETURNING d.status::text AS status
),
log AS (
	INSERT INTO audit_logs (id, admin_id, action, details)
	SELECT $6, adm.id, 'deposit.review', jsonb_build_object(
		'tx_id', x.id, 'decision', $3::text, 'reason', $4::text, 'outcome', x.outcome,
		'status_before', x.status, 'status_after', COALESCE((SELECT status FROM changed), x.status),
		'owner_user_id', x.user_id, 'confirmed_user_id', $5::uuid,
		'hold_reason', x.hold_reason, 'hold_detail', x.hold_detail,
		'chain', x.chain, 'tx_hash', x.tx_hash, 'log_index', x.log_index, 'amount', x.amount,
		'currency', x.currency,
		'webhook_id', CASE WHEN x.outcome IN ('released', 'already_released') AND x.user_id IS NOT NULL
			THEN $7::text END)
	FROM adm, decided x
	RETURNING id
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM deposits WHERE id = $1) AS found,
	(SELECT id FROM log) AS audit_log_id, (SELECT status FROM changed) AS new_status, decided.*
FROM (SELECT 1) AS one LEFT JOIN decided ON true`;

const AUDIT_FAILED = `
INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'deposit.review_failed', $2::jsonb)`;

type ReviewRow = Partial<StoredDeposit> & {
	admin_id: string | null;
	found: string | null;
	audit_log_id: string | null;
	new_status: DepositRow["status"] | null;
	status: DepositRow["status"] | null;
	user_id: DepositRow["userId"];
	hold_reason: DepositRow["holdReason"];
	review_decision: string | null;
	outcome: "rejected" | "released" | "already_released" | "refused" | null;
};

/** The 409 (or 422) of a review that cannot resolve the deposit, saying why. */
function refusal(row: ReviewRow, decision: string, confirmed: string | undefined): ApiError {
	const details = { deposit_status: row.status, user_id: row.user_id, audit_log_id: row.audit_log_id };
	if (row.status !== "held") {
		const by = row.review_decision ? ` (${row.review_decision} by an earlier review)` : "";
		return new ApiError(
			"conflict",
			`the deposit is ${row.status}${by}; only a held deposit can be reviewed`,
			details,
		);
	}
	if (decision === "release" && row.user_id && !confirmed) {
		return new ApiError("validation_failed", "a release must confirm the deposit's owner", {
			...details,
			fields: [
				{ path: "user_id", message: `give the owner's id, ${row.user_id}, to confirm the release to them` },
			],
		});
	}
	const owner = row.user_id ? `player ${row.user_id}` : "nobody (it is released to unmatched, for an assign)";
	return new ApiError(
		"conflict",
		`the deposit's owner is ${owner}, not the user_id given; a release credits only the owner fixed on the deposit`,
		details,
	);
}

export const depositReview = new Hono<AuthedEnv>().post("/:tx_id/review", async (c) => {
	const txId = pathParam(c, "tx_id", z.uuid()).toLowerCase();
	const input = await jsonBody(c, reviewSchema);
	if (input.decision === "reject" && input.user_id) {
		throw validationFailed("a reject credits nobody: leave user_id out", [
			{ path: "user_id", message: "only a release confirms an owner" },
		]);
	}
	const adminId = c.var.auth.sub;
	const db = database(c.env);
	const auditId = crypto.randomUUID();
	const webhookId = `admin-release:${auditId}`;

	const [row] = await db.query<ReviewRow>(REVIEW, [
		txId,
		adminId,
		input.decision,
		input.reason,
		input.user_id ?? null,
		auditId,
		webhookId,
	]);
	if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
	if (!row.found) throw new ApiError("not_found", "no deposit with this tx_id");
	if (!row.outcome || row.outcome === "refused") throw refusal(row, input.decision, input.user_id);

	const status = row.new_status ?? row.status;
	const body = {
		ok: true as const,
		tx_id: txId,
		outcome: row.outcome,
		status,
		user_id: row.user_id,
		hold_reason: row.hold_reason,
		audit_log_id: auditId,
	};
	if (row.outcome === "rejected" || !row.user_id) return c.json(body, 200);

	const message = settlementMessage(row as ReviewRow & StoredDeposit, row.user_id, webhookId);
	if (!(await sendDeposit(c.env.DEPOSITS, message))) {
		await db
			.query(AUDIT_FAILED, [
				adminId,
				JSON.stringify({ tx_id: txId, user_id: row.user_id, audit_log_id: auditId, webhook_id: webhookId }),
			])
			.catch((error) => console.error("could not record the failed release:", error));
		throw queueUnavailable(
			`the deposit is released to settlement for player ${row.user_id}, but the message that settles it could not be queued; retry the same release to send it`,
		);
	}
	return c.json(body, 202);
});
