/**
 * Deposit addresses, for admins:
 * - `POST /deposit-addresses` `{user_id, chain, address}`: registers an address to a player
 *   (origin `admin`), the audited way to attribute a platform address that did not come through
 *   the pool (e.g. one the original system gave this player). Only an address whose key the
 *   platform holds may be registered: a deposit is credited because the money arrived in the
 *   platform's wallet, so an address the player controls would credit them with their own
 *   money. The address is checked as every address that enters is (schema/address-format.ts) and
 *   belongs to its whole family: an EVM
 *   address registered on bep20 credits its player on erc20 too, and nobody else can have it on
 *   any EVM chain (409 naming the holder). One statement checks the admin and the player,
 *   inserts the address and writes the audit row.
 * - `GET /deposit-addresses?user_id=&family=&address=`: who holds which address, newest first,
 *   paged; an address is matched in its stored form (EVM lower-case, TRON exactly).
 *
 * Registering never moves a deposit: the answer counts the unmatched deposits already parked
 * for the address, which stay parked until an admin assigns them (routes/admin/deposits.ts).
 *
 * @module
 */
import { Hono } from "hono";
import {
	CHAIN_FAMILY,
	chainsOf,
	FAMILIES,
	type Family,
	storedAddressSql,
} from "../../../../schema/address-family";
import { parseChainAddress } from "../../../../schema/address-format";
import { CHAINS } from "../../../../schema/queue-message";
import * as z from "../../../../schema/zod";
import { ApiError, validationFailed } from "../../../../shared/http/errors";
import { jsonBody, queryInput } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { fetchPage, isoTimestamp, pageQuery } from "../../lib/pagination";

const uuid = z.pipe(
	z.uuid(),
	z.transform((s: string) => s.toLowerCase()),
);

export const registerSchema = z.pipe(
	z.object({
		user_id: uuid,
		chain: z.enum(CHAINS),
		address: z.string().check(z.trim(), z.maxLength(128)),
	}),
	z.transform((value, ctx) => {
		const parsed = parseChainAddress(value.chain, value.address);
		if (!parsed.ok) {
			z.addIssue(ctx, { path: ["address"], message: parsed.message });
			return z.NEVER;
		}
		return { ...value, family: CHAIN_FAMILY[value.chain], address: parsed.address };
	}),
);

/** Where an existing address stands, as 409s and lists report it. */
const STATE = `CASE WHEN a.user_id IS NOT NULL THEN 'issued' WHEN a.issued_at IS NULL THEN 'unissued' ELSE 'retired' END`;

// $1 admin, $2 player, $3 family, $4 address (stored form), $5 chain as the admin named it,
// $6 the family's chains.
const REGISTER = `
WITH adm AS (SELECT id FROM admins WHERE id = $1),
usr AS (SELECT id FROM users WHERE id = $2),
ins AS (
	INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at)
	SELECT $3, $4, usr.id, 'admin', now() FROM usr, adm
	ON CONFLICT (family, address) DO NOTHING
	RETURNING id, user_id, family, address, origin, issued_at, created_at
),
log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT adm.id, 'deposit_address.create',
		jsonb_build_object('deposit_address_id', ins.id, 'user_id', ins.user_id, 'family', ins.family,
			'chain', $5::text, 'address', ins.address, 'origin', ins.origin)
	FROM ins, adm
	RETURNING id
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM usr) AS user_found,
	ins.id, ins.user_id, ins.family, ins.address, ins.origin,
	${isoTimestamp("ins.issued_at")} AS issued_at, ${isoTimestamp("ins.created_at")} AS created_at,
	(SELECT id FROM log) AS audit_log_id,
	(SELECT json_build_object('user_id', a.user_id, 'origin', a.origin, 'state', ${STATE})
		FROM deposit_addresses a WHERE a.family = $3 AND a.address = $4) AS existing,
	(SELECT count(*) FROM deposits d
		WHERE d.status = 'unmatched' AND d.chain = ANY ($6::text[])
			AND ${storedAddressSql("d.chain", "d.to_address")} = $4)::int AS unmatched_deposits
FROM (SELECT 1) AS one LEFT JOIN ins ON true`;

type Existing = { user_id: string | null; origin: string; state: "issued" | "unissued" | "retired" };

/** Why an address that exists cannot be registered, for the 409. */
function conflictMessage(existing: Existing, family: Family): string {
	if (existing.state === "unissued") {
		return "this address is in the platform's pool, not yet issued: players get pool addresses from POST /api/v1/wallet/deposit-address";
	}
	if (existing.state === "retired") {
		return "this address was issued to an account that no longer exists; an address is never issued twice";
	}
	return `this address already belongs to a player (one owner on every ${family} chain: ${chainsOf(family).join(", ")})`;
}

export const listSchema = z.object({
	...pageQuery,
	user_id: z.optional(uuid),
	family: z.optional(z.enum(FAMILIES)),
	address: z.optional(z.string().check(z.trim(), z.minLength(1), z.maxLength(128))),
});

const LIST_SORT = "COALESCE(a.created_at, 'epoch'::timestamptz)";
// $1 player, $2 family, $3 address as given (EVM compared lower-case), then the page.
const LIST = `
SELECT a.id, a.family, a.address, a.user_id, a.origin, ${STATE} AS state,
	${isoTimestamp("a.issued_at")} AS issued_at, ${isoTimestamp("a.created_at")} AS created_at,
	${isoTimestamp(LIST_SORT)} AS sort_at
FROM deposit_addresses a
WHERE ($1::uuid IS NULL OR a.user_id = $1::uuid)
	AND ($2::text IS NULL OR a.family = $2::text)
	AND ($3::text IS NULL OR a.address = CASE WHEN $3::text LIKE '0x%' THEN lower($3::text) ELSE $3::text END)
	AND ($4::timestamptz IS NULL OR (${LIST_SORT}, a.id) < ($4::timestamptz, $5::uuid))
ORDER BY ${LIST_SORT} DESC, a.id DESC
LIMIT $6::int`;

type ListRow = {
	id: string;
	family: Family;
	address: string;
	user_id: string | null;
	origin: string;
	state: string;
	issued_at: string | null;
	created_at: string | null;
	sort_at: string;
};

export const depositAddresses = new Hono<AuthedEnv>()
	.post("/", async (c) => {
		const input = await jsonBody(c, registerSchema);
		const [row] = await database(c.env).query(REGISTER, [
			c.var.auth.sub,
			input.user_id,
			input.family,
			input.address,
			input.chain,
			chainsOf(input.family),
		]);
		if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
		if (!row.user_found) {
			throw validationFailed("user_id names no user", [{ path: "user_id", message: "no such user" }]);
		}
		if (!row.id) {
			// The snapshot of this statement predates the insert, so `existing` is the earlier row.
			const existing = row.existing as Existing | null;
			throw new ApiError(
				"conflict",
				existing
					? conflictMessage(existing, input.family)
					: "this address was registered at the same moment by another request",
				{
					user_id: existing?.user_id ?? null,
					origin: existing?.origin ?? null,
					state: existing?.state ?? null,
				},
			);
		}
		return c.json(
			{
				id: row.id,
				user_id: row.user_id,
				family: row.family,
				chains: chainsOf(input.family),
				address: row.address,
				origin: row.origin,
				issued_at: row.issued_at,
				created_at: row.created_at,
				audit_log_id: row.audit_log_id,
				unmatched_deposits: row.unmatched_deposits,
			},
			201,
		);
	})
	.get("/", async (c) => {
		const query = queryInput(c, listSchema);
		return c.json(
			await fetchPage<ListRow, unknown>(
				database(c.env),
				LIST,
				[query.user_id ?? null, query.family ?? null, query.address ?? null],
				query,
				(r) => r.sort_at,
				({ sort_at: _, ...r }) => ({ ...r, chains: chainsOf(r.family) }),
			),
		);
	});
