/**
 * `GET /api/v1/wallet`: the caller's balances as exact decimal strings (NUMERIC(30,8) cast to
 * text in Postgres, never through a JavaScript number) and the deposit addresses that credit
 * them: issued from the platform's pool or registered by an admin, each with the chains it
 * receives on. `POST /api/v1/wallet/deposit-address` issues one (./deposit-address.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { chainsOf, type Family } from "../../../schema/address-family";
import { ApiError } from "../../../shared/http/errors";
import { type AuthedEnv, requireAuth } from "../lib/auth";
import { database } from "../lib/database";
import { isoTimestamp } from "../lib/pagination";
import { depositAddress } from "./deposit-address";

const WALLET = `
SELECT w.deposit_balance::text AS deposit_balance, w.winning_balance::text AS winning_balance,
	w.bonus_balance::text AS bonus_balance,
	(w.deposit_balance + w.winning_balance + w.bonus_balance)::text AS total_balance,
	${isoTimestamp("w.updated_at")} AS updated_at,
	COALESCE((SELECT json_agg(json_build_object('family', a.family, 'address', a.address, 'origin', a.origin,
			'issued_at', ${isoTimestamp("a.issued_at")}) ORDER BY a.issued_at, a.address)
		FROM deposit_addresses a WHERE a.user_id = w.user_id), '[]'::json) AS deposit_addresses
FROM wallets w WHERE w.user_id = $1`;

type AddressRow = { family: Family; address: string; origin: string; issued_at: string };

export const wallet = new Hono<AuthedEnv>()
	.use(requireAuth("user"))
	.get("/", async (c) => {
		const [row] = await database(c.env).query(WALLET, [c.var.auth.sub]);
		if (!row) throw new ApiError("not_found", "this account has no wallet");
		return c.json({
			currency: "USDT",
			deposit_balance: row.deposit_balance,
			winning_balance: row.winning_balance,
			bonus_balance: row.bonus_balance,
			total_balance: row.total_balance,
			updated_at: row.updated_at,
			deposit_addresses: (row.deposit_addresses as AddressRow[]).map((a) => ({
				family: a.family,
				chains: chainsOf(a.family),
				address: a.address,
				origin: a.origin,
				issued_at: a.issued_at,
			})),
		});
	})
	.route("/deposit-address", depositAddress);
