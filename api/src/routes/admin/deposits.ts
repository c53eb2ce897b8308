/**
 * Admin review of deposits settlement could not finish on its own:
 * - `GET /deposits?status=&hold_reason=&user_id=`: deposits in any state, newest first, with
 *   what a reviewer needs (hold reason and detail, block hash, inclusion, last chain check,
 *   review); `?status=held` is the review queue of held deposits.
 * - `GET /deposits/unmatched`: deposits for no known user or address, parked for review (one
 *   assigned but not yet settled shows its `user_id`).
 * - `GET /deposits/conflicts`: unresolved deliveries that disagree with a known deposit.
 * - `POST /deposits/:tx_id/assign`, `POST /deposits/attribute`, `POST /deposits/:tx_id/review`:
 *   the actions (deposit-assign.ts, deposit-attribute.ts, deposit-review.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { DEPOSIT_STATES } from "../../../../schema/deposit-states";
import * as z from "../../../../schema/zod";
import { queryInput } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { fetchPage, isoTimestamp, pageQuery } from "../../lib/pagination";
import { depositAssign } from "./deposit-assign";
import { depositAttribute } from "./deposit-attribute";
import { depositReview } from "./deposit-review";

export const listQuery = z.object(pageQuery);

const UNMATCHED = `
SELECT id, chain, tx_hash, log_index, amount::text AS amount, currency, to_address, user_id, confirmations,
	required_confirmations, block_number::text AS block_number, metadata, webhook_id,
	${isoTimestamp("first_seen_at")} AS first_seen_at, ${isoTimestamp("updated_at")} AS updated_at
FROM deposits
WHERE status = 'unmatched' AND ($1::timestamptz IS NULL OR (first_seen_at, id) < ($1::timestamptz, $2::uuid))
ORDER BY first_seen_at DESC, id DESC
LIMIT $3::int`;

export const byStatusQuery = z.object({
	...pageQuery,
	status: z.optional(z.enum(DEPOSIT_STATES)),
	hold_reason: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(64))),
	user_id: z.optional(
		z.pipe(
			z.uuid(),
			z.transform((s: string) => s.toLowerCase()),
		),
	),
});

// $1 status, $2 hold reason, $3 player, then the page.
const BY_STATUS = `
SELECT d.id, d.status::text AS status, d.chain, d.tx_hash, d.log_index, d.amount::text AS amount, d.currency,
	d.to_address, d.user_id, d.confirmations, d.required_confirmations,
	d.block_number::text AS block_number, d.block_hash, d.inclusion, d.hold_reason, d.hold_detail,
	${isoTimestamp("d.chain_checked_at")} AS chain_checked_at,
	CASE WHEN d.review_decision IS NULL THEN NULL ELSE json_build_object('decision', d.review_decision,
		'admin_id', d.reviewed_by, 'reason', d.review_reason, 'at', ${isoTimestamp("d.reviewed_at")}) END AS review,
	d.webhook_id, d.metadata,
	${isoTimestamp("d.first_seen_at")} AS first_seen_at, ${isoTimestamp("d.updated_at")} AS updated_at
FROM deposits d
WHERE ($1::deposit_state IS NULL OR d.status = $1::deposit_state)
	AND ($2::text IS NULL OR d.hold_reason = $2::text)
	AND ($3::uuid IS NULL OR d.user_id = $3::uuid)
	AND ($4::timestamptz IS NULL OR (d.first_seen_at, d.id) < ($4::timestamptz, $5::uuid))
ORDER BY d.first_seen_at DESC, d.id DESC
LIMIT $6::int`;

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

export const deposits = new Hono<AuthedEnv>()
	.get("/", async (c) => {
		const query = queryInput(c, byStatusQuery);
		return c.json(
			await fetchPage(
				database(c.env),
				BY_STATUS,
				[query.status ?? null, query.hold_reason ?? null, query.user_id ?? null],
				query,
				(row: { id: string; first_seen_at: string }) => row.first_seen_at,
				({ id, ...row }) => ({ tx_id: id, ...row }),
			),
		);
	})
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
	.route("/", depositAssign)
	.route("/", depositAttribute)
	.route("/", depositReview);
