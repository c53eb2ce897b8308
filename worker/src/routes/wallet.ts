/**
 * `GET /api/v1/wallet`: the caller's balances as exact decimal strings (NUMERIC(30,8) cast to
 * text in Postgres, never through a JavaScript number) and the deposit addresses registered to
 * them.
 *
 * @module
 */
import { Hono } from "hono";
import { ApiError } from "../errors";
import { type AuthedEnv, requireAuth } from "../lib/auth";
import { database } from "../lib/database";
import { isoTimestamp } from "../lib/pagination";

const WALLET = `
SELECT w.deposit_balance::text AS deposit_balance, w.winning_balance::text AS winning_balance,
	w.bonus_balance::text AS bonus_balance,
	(w.deposit_balance + w.winning_balance + w.bonus_balance)::text AS total_balance,
	${isoTimestamp("w.updated_at")} AS updated_at,
	COALESCE((SELECT json_agg(json_build_object('chain', a.chain, 'address', a.address) ORDER BY a.chain, a.address)
		FROM deposit_addresses a WHERE a.user_id = w.user_id), '[]'::json) AS deposit_addresses
FROM wallets w WHERE w.user_id = $1`;

export const wallet = new Hono<AuthedEnv>().use(requireAuth("user")).get("/", async (c) => {
	const [row] = await database(c.env).query(WALLET, [c.var.auth.sub]);
	if (!row) throw new ApiError(404, "not_found", "this account has no wallet");
	return c.json({
		currency: "USDT",
		deposit_balance: row.deposit_balance,
		winning_balance: row.winning_balance,
		bonus_balance: row.bonus_balance,
		total_balance: row.total_balance,
		updated_at: row.updated_at,
		deposit_addresses: row.deposit_addresses,
	});
});
