/**
 * `POST /api/v1/wallet/deposit-address` `{chain}`: the player's deposit address for the chain's
 * family, issued from the platform's pool on the first call (201) and the same one on every
 * call after (200). An EVM address serves every EVM chain (`chains` in the answer lists them).
 *
 * A player never names an address: the platform's wallet generated every address in the pool,
 * and an admin imported it (routes/admin/deposit-address-pool.ts). One transaction (one round
 * trip) issues it, race-safe both ways:
 * - concurrent calls of one player give one address: the first statement locks the player's
 *   row, so they run one after the other, and the second statement, whose snapshot is taken
 *   after that lock (READ COMMITTED, Postgres's and Neon's default), sees the address an
 *   earlier call issued; the unique index on a player's pool address per family
 *   (`uq_deposit_addresses_pool_holder`) backs this in the database, so no isolation level
 *   can ever give a player two;
 * - two players never get the same address: each takes the oldest unissued row it can lock
 *   (`FOR UPDATE SKIP LOCKED`, so players do not queue behind each other) and issues it only
 *   while it is still unissued.
 *
 * An empty pool is a 503 with `Retry-After` and the code `address_pool_empty`, which is the
 * request's error code in its metrics data point (and counts in the 5xx rate the error-rate
 * alerts watch); nothing is taken, and the call succeeds once an admin imports more addresses.
 * Operators see each family's unissued count in `GET /api/v1/admin/deposit-addresses/pool`
 * (`ops addresses pool`).
 *
 * @module
 */
import { Hono } from "hono";
import { CHAIN_FAMILY, chainsOf } from "../../../schema/address-family";
import { CHAINS } from "../../../schema/queue-message";
import * as z from "../../../schema/zod";
import { ApiError, serviceUnavailable } from "../../../shared/http/errors";
import { jsonBody } from "../../../shared/http/request-input";
import type { AuthedEnv } from "../lib/auth";
import { database } from "../lib/database";
import { isoTimestamp } from "../lib/pagination";

/** The route, as error messages elsewhere name it. */
export const ISSUE_ROUTE = "POST /api/v1/wallet/deposit-address";

export const bodySchema = z.object({
	chain: z.pipe(
		z.pipe(
			z.string({ error: `must be one of ${CHAINS.join(", ")}` }),
			z.transform((v: string) => v.trim().toLowerCase()),
		),
		z.enum(CHAINS, { error: `must be one of ${CHAINS.join(", ")}` }),
	),
});

/** Serialises one player's calls (`NO KEY UPDATE`: rows referencing the player are not blocked). */
const LOCK_PLAYER = "SELECT status::text AS status FROM users WHERE id = $1 FOR NO KEY UPDATE";

// $1 the player, $2 the family.
const ISSUE = `
WITH held AS (
	SELECT a.address, a.issued_at FROM deposit_addresses a
	WHERE a.user_id = $1 AND a.family = $2 AND a.origin = 'pool'
),
pick AS (
	SELECT a.id FROM deposit_addresses a
	WHERE a.family = $2 AND a.issued_at IS NULL
		AND NOT EXISTS (SELECT 1 FROM held)
		AND EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND u.status <> 'DISABLED')
	ORDER BY a.created_at, a.id
	LIMIT 1
	FOR UPDATE SKIP LOCKED
),
issued AS (
	UPDATE deposit_addresses a SET user_id = $1, issued_at = now()
	FROM pick
	WHERE a.id = pick.id AND a.issued_at IS NULL
	RETURNING a.address, a.issued_at
)
SELECT COALESCE(h.address, i.address) AS address,
	${isoTimestamp("COALESCE(h.issued_at, i.issued_at)")} AS issued_at,
	(i.address IS NOT NULL) AS newly_issued
FROM (SELECT 1) AS one LEFT JOIN held h ON true LEFT JOIN issued i ON true`;

type IssueRow = {
	address: string | null;
	issued_at: string | null;
	newly_issued: boolean;
};

export const depositAddress = new Hono<AuthedEnv>().post("/", async (c) => {
	const { chain } = await jsonBody(c, bodySchema);
	const family = CHAIN_FAMILY[chain];
	const [players, issued] = await database(c.env).batch([
		{ text: LOCK_PLAYER, params: [c.var.auth.sub] },
		{ text: ISSUE, params: [c.var.auth.sub, family] },
	]);
	const status = players![0]?.status;
	const row = issued![0] as IssueRow;
	if (!status) throw new ApiError("unauthorized", "this account no longer exists");
	if (status === "DISABLED") throw new ApiError("forbidden", "this account is disabled");
	if (!row.address) {
		throw serviceUnavailable(
			`no ${family} deposit address is available right now; retry later (operators: import more ${family} addresses into the pool)`,
			{ family },
			"address_pool_empty",
		);
	}
	return c.json(
		{
			chain,
			family,
			chains: chainsOf(family),
			address: row.address,
			origin: "pool",
			issued_at: row.issued_at,
		},
		row.newly_issued ? 201 : 200,
	);
});
