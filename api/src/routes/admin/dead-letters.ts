/**
 * Admin review of dead letters (messages settlement gave up on):
 * - `GET /dead-letters?limit=&cursor=&include_redriven=`: newest first; redriven ones only on
 *   request.
 * - `POST /dead-letters/:id/redrive`: validates the stored body against the v1 contract (one
 *   that still does not validate can never succeed: 422), claims the row (`redriven_at`) and
 *   writes the audit row in one statement, then sends the body onto `DEPOSITS`, 202. If the
 *   queue refuses it, the claim is undone and the failure audited, so the letter can be
 *   redriven again.
 *
 * @module
 */
import { Hono } from "hono";
import { parseDepositMessage } from "../../../../schema/queue-message";
import * as z from "../../../../schema/zod";
import { enqueue, queueUnavailable } from "../../../../shared/deposit-queue";
import { ApiError } from "../../../../shared/http/errors";
import { pathParam, queryInput, validationError } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { fetchPage, isoTimestamp, pageQuery } from "../../lib/pagination";

export const listQuery = z.object({
	...pageQuery,
	include_redriven: z._default(z.enum(["true", "false"]), "false"),
});

const SORT_AT = "COALESCE(created_at, 'epoch'::timestamptz)";
const LIST = `
SELECT id, message_id, tx_id, source, reason, body, attempts,
	${isoTimestamp("created_at")} AS created_at, ${isoTimestamp("redriven_at")} AS redriven_at,
	${isoTimestamp(SORT_AT)} AS sort_at
FROM dead_letters
WHERE ($1::boolean OR redriven_at IS NULL)
	AND ($2::timestamptz IS NULL OR (${SORT_AT}, id) < ($2::timestamptz, $3::uuid))
ORDER BY ${SORT_AT} DESC, id DESC
LIMIT $4::int`;

const READ = `
SELECT (SELECT id FROM admins WHERE id = $2) AS admin_id, dl.id, dl.tx_id, dl.message_id, dl.body,
	${isoTimestamp("dl.redriven_at")} AS redriven_at
FROM (SELECT 1) AS one LEFT JOIN dead_letters dl ON dl.id = $1`;

const CLAIM = `
WITH claimed AS (
	UPDATE dead_letters SET redriven_at = now()
	WHERE id = $1 AND redriven_at IS NULL AND EXISTS (SELECT 1 FROM admins WHERE id = $2)
	RETURNING id
)
INSERT INTO audit_logs (admin_id, action, details)
SELECT $2, 'dead_letter.redrive', $3::jsonb FROM claimed
RETURNING id`;

const RELEASE = `
WITH released AS (UPDATE dead_letters SET redriven_at = NULL WHERE id = $1 RETURNING id)
INSERT INTO audit_logs (admin_id, action, details)
SELECT $2, 'dead_letter.redrive_failed', $3::jsonb FROM released`;

type LetterRow = {
	admin_id: string | null;
	id: string | null;
	tx_id: string | null;
	message_id: string;
	body: unknown;
	redriven_at: string | null;
};

export const deadLetters = new Hono<AuthedEnv>()
	.get("/", async (c) => {
		const query = queryInput(c, listQuery);
		return c.json(
			await fetchPage(
				database(c.env),
				LIST,
				[query.include_redriven === "true"],
				query,
				(row: { id: string; sort_at: string }) => row.sort_at,
				({ sort_at: _, ...row }) => row,
			),
		);
	})
	.post("/:id/redrive", async (c) => {
		const id = pathParam(c, "id", z.uuid()).toLowerCase();
		const adminId = c.var.auth.sub;
		const db = database(c.env);

		const [row] = await db.query<LetterRow>(READ, [id, adminId]);
		if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
		if (!row.id) throw new ApiError("not_found", "no dead letter with this id");
		if (row.redriven_at) {
			throw new ApiError("conflict", `this dead letter was already redriven at ${row.redriven_at}`, {
				redriven_at: row.redriven_at,
			});
		}
		const parsed = parseDepositMessage(row.body);
		if (!parsed.success) {
			const error = validationError(parsed.error, "stored message");
			throw new ApiError(
				"validation_failed",
				"the stored message is not a valid deposit message and can never be settled; it is not redriven",
				error.details,
			);
		}

		const details = { dead_letter_id: id, tx_id: row.tx_id, message_id: row.message_id };
		const [audit] = await db.query<{ id: string }>(CLAIM, [id, adminId, JSON.stringify(details)]);
		if (!audit) throw new ApiError("conflict", "this dead letter was redriven meanwhile");

		if (!(await enqueue(c.env.DEPOSITS, parsed.data))) {
			await db
				.query(RELEASE, [id, adminId, JSON.stringify({ ...details, audit_log_id: audit.id })])
				.catch((error) =>
					console.error(`could not release dead letter ${id} after a failed redrive:`, error),
				);
			throw queueUnavailable();
		}
		return c.json(
			{ ok: true as const, dead_letter_id: id, tx_id: parsed.data.tx_id, audit_log_id: audit.id },
			202,
		);
	});
