/**
 * Admin review of deposits settlement could not finish on its own:
 * - `GET /deposits/unmatched`: deposits for no known user or address, parked for review.
 * - `GET /deposits/conflicts`: unresolved deliveries that disagree with a known deposit.
 * - `POST /deposits/:tx_id/assign` `{user_id}`: attributes an unmatched deposit to a player.
 *
 * Assign does not touch balances itself: it writes the audit row, then sends a v1 message with
 * the deposit's own chain, tx_hash, log_index, amount, currency and stored confirmations,
 * status "confirmed", the chosen `user_id` and `webhook_id` = `admin-assign:<audit row id>`, and
 * answers 202. The consumer credits it through its normal path, so it is credited once however
 * often the message is sent, and never before the chain's confirmation threshold.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { DepositMessage } from "../../../../schema/queue-message";
import { ApiError } from "../../errors";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { isPlainObject } from "../../lib/decimal";
import { queueUnavailable, sendDeposit } from "../../lib/deposit-queue";
import { fetchPage, isoTimestamp, pageQuery } from "../../lib/pagination";
import { jsonBody, pathParam, queryInput } from "../../lib/request-input";

export const listQuery = z.object(pageQuery);

const UNMATCHED = `
SELECT id, chain, tx_hash, log_index, amount::text AS amount, currency, to_address, confirmations,
	required_confirmations, block_number::text AS block_number, metadata, webhook_id,
	${isoTimestamp("first_seen_at")} AS first_seen_at, ${isoTimestamp("updated_at")} AS updated_at
FROM deposits
WHERE status = 'unmatched' AND ($1::timestamptz IS NULL OR (first_seen_at, id) < ($1::timestamptz, $2::uuid))
ORDER BY first_seen_at DESC, id DESC
LIMIT $3::int`;

const CONFLICTS_SORT = "COALESCE(c.created_at, 'epoch'::timestamptz)";
const CONFLICTS = `
SELECT c.id, c.deposit_id AS tx_id, c.amount::text AS amount, c.currency, c.webhook_id, c.payload,
	${isoTimestamp("c.created_at")} AS received_at, ${isoTimestamp(CONFLICTS_SORT)} AS sort_at,
	json_build_object('chain', d.chain, 'tx_hash', d.tx_hash, 'log_index', d.log_index,
		'amount', d.amount::text, 'currency', d.currency, 'status', d.status, 'user_id', d.user_id,
		'confirmations', d.confirmations) AS deposit
FROM deposit_conflicts c JOIN deposits d ON d.id = c.deposit_id
WHERE c.resolved_at IS NULL
	AND ($1::timestamptz IS NULL OR (${CONFLICTS_SORT}, c.id) < ($1::timestamptz, $2::uuid))
ORDER BY ${CONFLICTS_SORT} DESC, c.id DESC
LIMIT $3::int`;

const ASSIGN_READ = `
SELECT (SELECT id FROM admins WHERE id = $3) AS admin_id, (SELECT id FROM users WHERE id = $2) AS assignee,
	d.id, d.chain, d.tx_hash, d.log_index, d.amount::text AS amount, d.currency, d.to_address,
	d.status::text AS status, d.confirmations, d.block_number::text AS block_number, d.metadata
FROM (SELECT 1) AS one LEFT JOIN deposits d ON d.id = $1`;

// Written only while the deposit is still unmatched and the admin still exists.
const ASSIGN_AUDIT = `
INSERT INTO audit_logs (id, admin_id, action, details)
SELECT $1, $2, 'deposit.assign', $3::jsonb
WHERE EXISTS (SELECT 1 FROM deposits WHERE id = $4 AND status = 'unmatched')
	AND EXISTS (SELECT 1 FROM admins WHERE id = $2)
RETURNING id`;

const AUDIT_FAILED = `
INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, $2, $3::jsonb)`;

type AssignRow = {
	admin_id: string | null;
	assignee: string | null;
	id: string | null;
	chain: DepositMessage["chain"];
	tx_hash: string;
	log_index: number;
	amount: string;
	currency: string;
	to_address: string | null;
	status: string;
	// null when the sender never said (a deposit the sender declared final).
	confirmations: number | null;
	block_number: string | null;
	metadata: unknown;
};

export const deposits = new Hono<AuthedEnv>()
	.get("/unmatched", async (c) => {
		const query = queryInput(c, listQuery);
		return c.json(
			await fetchPage(
				database(c.env),
				UNMATCHED,
				[],
				query,
				(row: { id: string; first_seen_at: string }) => row.first_seen_at,
				({ id, ...row }) => ({ tx_id: id, status: "unmatched", ...row }),
			),
		);
	})
	.get("/conflicts", async (c) => {
		const query = queryInput(c, listQuery);
		return c.json(
			await fetchPage(
				database(c.env),
				CONFLICTS,
				[],
				query,
				(row: { id: string; sort_at: string }) => row.sort_at,
				({ sort_at: _, ...row }) => row,
			),
		);
	})
	.post("/:tx_id/assign", async (c) => {
		const txId = pathParam(c, "tx_id", z.uuid()).toLowerCase();
		const { user_id: userId } = await jsonBody(
			c,
			z.object({ user_id: z.uuid().transform((s) => s.toLowerCase()) }),
		);
		const adminId = c.var.auth.sub;
		const db = database(c.env);

		const [row] = await db.query<AssignRow>(ASSIGN_READ, [txId, userId, adminId]);
		if (!row?.admin_id) throw new ApiError(401, "unauthorized", "this admin account no longer exists");
		if (!row.id) throw new ApiError(404, "not_found", "no deposit with this tx_id");
		if (!row.assignee) {
			throw new ApiError(422, "validation_failed", "user_id names no user", {
				fields: [{ path: "user_id", message: "no such user" }],
			});
		}
		if (row.status !== "unmatched") {
			throw new ApiError(
				409,
				"conflict",
				`the deposit is ${row.status}; only unmatched deposits can be assigned`,
				{
					deposit_status: row.status,
				},
			);
		}

		const auditId = crypto.randomUUID();
		const message: DepositMessage = {
			v: 1,
			tx_id: row.id,
			chain: row.chain,
			tx_hash: row.tx_hash,
			log_index: row.log_index,
			amount: row.amount,
			currency: row.currency,
			confirmations: row.confirmations,
			status: "confirmed",
			to_address: row.to_address,
			user_id: userId,
			block_number: row.block_number,
			// The contract carries an object or null; anything else stored is not forwarded.
			metadata: isPlainObject(row.metadata) ? row.metadata : null,
			webhook_id: `admin-assign:${auditId}`,
			received_at: new Date().toISOString(),
		};
		const details = {
			tx_id: txId,
			user_id: userId,
			chain: row.chain,
			tx_hash: row.tx_hash,
			log_index: row.log_index,
			amount: row.amount,
			currency: row.currency,
			confirmations: row.confirmations,
			webhook_id: message.webhook_id,
		};
		const written = await db.query(ASSIGN_AUDIT, [auditId, adminId, JSON.stringify(details), txId]);
		if (!written.length) {
			throw new ApiError(
				409,
				"conflict",
				"the deposit changed while it was being assigned; reload it and retry",
			);
		}
		if (!(await sendDeposit(c.env.DEPOSITS, message))) {
			await db
				.query(AUDIT_FAILED, [
					adminId,
					"deposit.assign_failed",
					JSON.stringify({ ...details, audit_log_id: auditId }),
				])
				.catch((error) => console.error("could not record the failed assign:", error));
			throw queueUnavailable();
		}
		return c.json({ ok: true as const, tx_id: txId, user_id: userId, audit_log_id: auditId }, 202);
	});
