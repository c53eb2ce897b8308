/**
 * `GET /api/v1/transactions?limit=&cursor=&type=`: the caller's own ledger rows, newest first,
 * cursor-paginated, optionally of one `tx_type` (e.g. `deposit`, `deposit_reversal`). On the
 * original platform's database these include its own rows (payouts, withdrawals); its pending
 * deposit rows that `ops adopt` superseded by a deposit here (`deposit_superseded`) moved no
 * money and are not listed: the deposit's own credit is, once it is credited.
 *
 * `GET /api/v1/transactions/:tx_id`: where one deposit stands (see lib/deposit-status.ts).
 * Players see their own deposits only; admins see any. Not yours and not there answer alike.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../schema/zod";
import { ApiError } from "../../../shared/http/errors";
import { pathParam, queryInput } from "../../../shared/http/request-input";
import { type AuthedEnv, requireAuth } from "../lib/auth";
import { database } from "../lib/database";
import { depositStatus } from "../lib/deposit-status";
import { fetchPage, isoTimestamp, pageQuery } from "../lib/pagination";

export const listQuery = z.object({
	...pageQuery,
	type: z.optional(
		z
			.string()
			.check(z.regex(/^[a-z][a-z0-9_]{0,63}$/, "a transaction type such as deposit or deposit_reversal")),
	),
});

// The column allows NULL (none is written so): such rows sort as 1970, last, and still page.
const SORT_AT = "COALESCE(created_at, 'epoch'::timestamptz)";
const LIST = `
SELECT id, tx_type, amount::text AS amount, currency, related_entity, related_id, metadata,
	${isoTimestamp("created_at")} AS created_at, ${isoTimestamp(SORT_AT)} AS sort_at
FROM transactions
WHERE user_id = $1 AND tx_type <> 'deposit_superseded'
	AND ($2::text IS NULL OR tx_type = $2::text)
	AND ($3::timestamptz IS NULL OR (${SORT_AT}, id) < ($3::timestamptz, $4::uuid))
ORDER BY ${SORT_AT} DESC, id DESC
LIMIT $5::int`;

type LedgerRow = {
	id: string;
	tx_type: string;
	amount: string;
	currency: string;
	related_entity: string | null;
	related_id: string | null;
	metadata: unknown;
	created_at: string | null;
	sort_at: string;
};

export const transactions = new Hono<AuthedEnv>()
	.get("/", requireAuth("user"), async (c) => {
		const query = queryInput(c, listQuery);
		return c.json(
			await fetchPage(
				database(c.env),
				LIST,
				[c.var.auth.sub, query.type ?? null],
				query,
				(row: LedgerRow) => row.sort_at,
				(row) => ({
					id: row.id,
					type: row.tx_type,
					amount: row.amount,
					currency: row.currency,
					related_entity: row.related_entity,
					related_id: row.related_id,
					metadata: row.metadata,
					created_at: row.created_at,
				}),
			),
		);
	})
	.get("/:tx_id", requireAuth("user", "admin"), async (c) => {
		const txId = pathParam(c, "tx_id", z.uuid());
		const status = await depositStatus(database(c.env), txId.toLowerCase(), c.var.auth);
		if (!status) throw new ApiError("not_found", "no deposit with this tx_id");
		return c.json(status);
	});
