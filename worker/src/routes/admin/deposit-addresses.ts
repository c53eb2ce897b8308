/**
 * `POST /deposit-addresses` `{user_id, chain, address}`: registers an address to a player, so
 * settlement attributes deposits to it that name no user. One statement checks the admin and
 * the player, inserts the address (an address belongs to one player per chain: 409 otherwise)
 * and writes the audit row. The answer counts the unmatched deposits already parked for that
 * address: they are credited when their sender delivers again, or by an admin's assign.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { ApiError } from "../../errors";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { depositAddressSchema } from "../../lib/deposit-address";
import { isoTimestamp } from "../../lib/pagination";
import { jsonBody } from "../../lib/request-input";

const bodySchema = z
	.object({ user_id: z.uuid().transform((s) => s.toLowerCase()) })
	.and(depositAddressSchema);

const REGISTER = `
WITH adm AS (SELECT id FROM admins WHERE id = $1),
usr AS (SELECT id FROM users WHERE id = $2),
ins AS (
	INSERT INTO deposit_addresses (user_id, chain, address)
	SELECT usr.id, $3, $4 FROM usr, adm
	ON CONFLICT (chain, address) DO NOTHING
	RETURNING id, user_id, chain, address, created_at
),
log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT adm.id, 'deposit_address.create',
		jsonb_build_object('deposit_address_id', ins.id, 'user_id', ins.user_id, 'chain', ins.chain, 'address', ins.address)
	FROM ins, adm
	RETURNING id
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM usr) AS user_found,
	ins.id, ins.user_id, ins.chain, ins.address, ${isoTimestamp("ins.created_at")} AS created_at,
	(SELECT id FROM log) AS audit_log_id,
	(SELECT user_id FROM deposit_addresses WHERE chain = $3 AND address = $4) AS owner,
	(SELECT count(*) FROM deposits WHERE chain = $3 AND lower(to_address) = $4 AND status = 'unmatched')::int
		AS unmatched_deposits
FROM (SELECT 1) AS one LEFT JOIN ins ON true`;

export const depositAddresses = new Hono<AuthedEnv>().post("/", async (c) => {
	const input = await jsonBody(c, bodySchema);
	const [row] = await database(c.env).query(REGISTER, [
		c.var.auth.sub,
		input.user_id,
		input.chain,
		input.address,
	]);
	if (!row?.admin_id) throw new ApiError(401, "unauthorized", "this admin account no longer exists");
	if (!row.user_found) {
		throw new ApiError(422, "validation_failed", "user_id names no user", {
			fields: [{ path: "user_id", message: "no such user" }],
		});
	}
	if (!row.id) {
		// The snapshot of this statement predates the insert, so `owner` is the earlier holder.
		throw new ApiError(409, "conflict", `this ${input.chain} address is already registered`, {
			user_id: row.owner,
		});
	}
	return c.json(
		{
			id: row.id,
			user_id: row.user_id,
			chain: row.chain,
			address: row.address,
			created_at: row.created_at,
			audit_log_id: row.audit_log_id,
			unmatched_deposits: row.unmatched_deposits,
		},
		201,
	);
});
