/**
 * `POST /deposits/attribute` `{chain, address, user_id, apply?, tx_ids?}`: moves the deposits
 * parked as unmatched for one deposit address to the player who holds that address, as an
 * explicit, audited action that lists what it moves. Registering or issuing an address never
 * moves a deposit by itself; this is how the ones parked before it was registered move.
 *
 * - Without `apply` (a dry run) it changes nothing and lists the parked deposits to the address
 *   (on every chain of its family, oldest first, at most {@link MAX_ATTRIBUTE} at a time) with
 *   the address's holder.
 * - With `apply: true` and `tx_ids` (the list the dry run showed) it moves exactly those: in one
 *   statement it locks them, checks every one is still parked for this address (or already
 *   given to this player by an earlier apply), fixes the player as their owner and writes one
 *   `deposit.attribute` audit row listing each deposit moved; then one message per deposit wakes
 *   settlement, which credits them through its normal path. If any listed deposit is not
 *   movable, or the player does not hold the address, nothing moves: 409 listing why, audited
 *   as `refused`. Deposits parked after the dry run are not in the list and stay parked.
 *
 * The player must be the address's holder: a deposit to an address goes to whoever holds it
 * (assign one deposit at a time to decide otherwise: deposit-assign.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { CHAIN_FAMILY, chainsOf, type Family, storedAddressSql } from "../../../../schema/address-family";
import { parseChainAddress } from "../../../../schema/address-format";
import { CHAINS, parseDepositMessage } from "../../../../schema/queue-message";
import * as z from "../../../../schema/zod";
import { enqueueAll, MAX_BATCH_MESSAGES, queueUnavailable } from "../../../../shared/deposit-queue";
import { ApiError, validationFailed } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/request-input";
import type { AuthedEnv } from "../../lib/auth";
import { database } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";
import { type StoredDeposit, settlementMessage, storedDepositColumns } from "../../lib/settlement-message";

/** Most deposits one call lists or moves: their messages then go in one all-or-nothing batch. */
const MAX_ATTRIBUTE = MAX_BATCH_MESSAGES;

const uuid = z.pipe(
	z.uuid(),
	z.transform((s: string) => s.toLowerCase()),
);

export const attributeSchema = z.pipe(
	z.object({
		chain: z.enum(CHAINS),
		address: z.string().check(z.trim(), z.maxLength(128)),
		user_id: uuid,
		apply: z._default(z.boolean(), false),
		tx_ids: z.optional(
			z.array(uuid).check(
				z.minLength(1),
				z.maxLength(MAX_ATTRIBUTE),
				z.refine((ids) => new Set(ids).size === ids.length, "a tx_id is listed twice"),
			),
		),
	}),
	z.transform((value, ctx) => {
		const parsed = parseChainAddress(value.chain, value.address);
		if (!parsed.ok) {
			z.addIssue(ctx, { path: ["address"], message: parsed.message });
			return z.NEVER;
		}
		if (value.apply && !value.tx_ids) {
			z.addIssue(ctx, {
				path: ["tx_ids"],
				message: "apply moves exactly the deposits listed: give the tx_ids the dry run listed",
			});
			return z.NEVER;
		}
		if (!value.apply && value.tx_ids) {
			z.addIssue(ctx, { path: ["apply"], message: "tx_ids are for apply: true" });
			return z.NEVER;
		}
		return { ...value, family: CHAIN_FAMILY[value.chain], address: parsed.address };
	}),
);

/** A deposit to the address `$4` on a chain of `$5`, in the columns' stored form. */
const TO_ADDRESS = `d.chain = ANY ($5::text[]) AND ${storedAddressSql("d.chain", "d.to_address")} = $4`;

/** Who may act, and who holds the address: $1 admin, $2 player, $3 family, $4 address. */
const PARTIES = `
adm AS (SELECT id FROM admins WHERE id = $1),
usr AS (SELECT id FROM users WHERE id = $2),
holder AS (SELECT user_id, origin FROM deposit_addresses WHERE family = $3 AND address = $4)`;

const LISTED = `
	json_build_object('tx_id', x.id, 'chain', x.chain, 'tx_hash', x.tx_hash, 'log_index', x.log_index,
		'amount', x.amount, 'currency', x.currency, 'confirmations', x.confirmations)`;

// $5 the family's chains, $6 how many to list.
const DRY_RUN = `
WITH ${PARTIES},
parked AS (
	SELECT ${storedDepositColumns("d")}, ${isoTimestamp("d.first_seen_at")} AS first_seen_at
	FROM deposits d
	WHERE d.status = 'unmatched' AND d.user_id IS NULL AND ${TO_ADDRESS}
	ORDER BY d.first_seen_at, d.id
	LIMIT $6::int
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM usr) AS user_found,
	(SELECT row_to_json(holder) FROM holder) AS holder,
	COALESCE((SELECT json_agg(row_to_json(parked) ORDER BY parked.first_seen_at, parked.id) FROM parked), '[]') AS deposits`;

// $5 the family's chains, $6 the tx_ids, $7 the audit row's id, $8 the chain named, $9 the
// webhook id the messages carry.
const APPLY = `
WITH ${PARTIES},
cur AS MATERIALIZED (
	SELECT ${storedDepositColumns("d")}, d.status::text AS status, d.user_id,
		(d.status = 'unmatched' AND (d.user_id IS NULL OR d.user_id = $2) AND ${TO_ADDRESS}) AS movable
	FROM deposits d
	WHERE d.id = ANY ($6::uuid[]) AND EXISTS (SELECT 1 FROM adm) AND EXISTS (SELECT 1 FROM usr)
	ORDER BY d.id
	FOR UPDATE
),
verdict AS (
	SELECT (SELECT count(*) FROM cur WHERE movable) = cardinality($6::uuid[])
		AND (SELECT user_id FROM holder) IS NOT DISTINCT FROM $2::uuid AS ok
),
moved AS (
	UPDATE deposits d SET user_id = $2, updated_at = now()
	FROM cur
	WHERE d.id = cur.id AND cur.user_id IS NULL AND (SELECT ok FROM verdict)
	RETURNING d.id
),
log AS (
	INSERT INTO audit_logs (id, admin_id, action, details)
	SELECT $7, adm.id, 'deposit.attribute', jsonb_build_object(
		'outcome', CASE WHEN (SELECT ok FROM verdict) THEN 'attributed' ELSE 'refused' END,
		'user_id', $2::uuid, 'family', $3::text, 'chain', $8::text, 'address', $4::text,
		'holder_user_id', (SELECT user_id FROM holder),
		'requested_tx_ids', to_jsonb($6::uuid[]),
		'deposits', COALESCE((SELECT jsonb_agg(${LISTED}::jsonb ORDER BY x.id) FROM cur x WHERE x.movable
			AND (SELECT ok FROM verdict)), '[]'::jsonb),
		'webhook_id', CASE WHEN (SELECT ok FROM verdict) THEN $9::text END)
	FROM adm
	WHERE EXISTS (SELECT 1 FROM usr)
	RETURNING id
)
SELECT (SELECT id FROM adm) AS admin_id, (SELECT id FROM usr) AS user_found,
	(SELECT row_to_json(holder) FROM holder) AS holder, (SELECT ok FROM verdict) AS ok,
	(SELECT id FROM log) AS audit_log_id,
	COALESCE((SELECT json_agg(row_to_json(cur) ORDER BY cur.id) FROM cur), '[]') AS deposits`;

const AUDIT_FAILED = `
INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'deposit.attribute_failed', $2::jsonb)`;

type Holder = { user_id: string | null; origin: string } | null;
type Listed = StoredDeposit & {
	first_seen_at?: string;
	status?: string;
	user_id?: string | null;
	movable?: boolean;
};

/** The public view of a deposit in a plan or a result. */
function listed(d: Listed) {
	return {
		tx_id: d.id,
		chain: d.chain,
		tx_hash: d.tx_hash,
		log_index: d.log_index,
		amount: d.amount,
		currency: d.currency,
		confirmations: d.confirmations,
		...(d.first_seen_at ? { first_seen_at: d.first_seen_at } : {}),
	};
}

/** The 409 when the player does not hold the address. */
function notTheHolder(holder: Holder, family: Family, userId: string): ApiError {
	const who = holder?.user_id ? `player ${holder.user_id}` : "nobody";
	return new ApiError(
		"conflict",
		`this address is held by ${who}, not by player ${userId}: parked deposits move only to the address's holder (register the address to the player first with POST /api/v1/admin/deposit-addresses, or assign deposits one at a time)`,
		{ holder_user_id: holder?.user_id ?? null, family },
	);
}

export const depositAttribute = new Hono<AuthedEnv>().post("/attribute", async (c) => {
	const input = await jsonBody(c, attributeSchema);
	const adminId = c.var.auth.sub;
	const db = database(c.env);
	const chains = chainsOf(input.family);
	const common = [adminId, input.user_id, input.family, input.address, chains] as const;
	const plan = {
		chain: input.chain,
		family: input.family,
		chains,
		address: input.address,
		user_id: input.user_id,
	};

	if (!input.apply) {
		const [row] = await db.query(DRY_RUN, [...common, MAX_ATTRIBUTE + 1]);
		if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
		if (!row.user_found) throw noSuchUser();
		const holder = row.holder as Holder;
		if (holder?.user_id !== input.user_id) throw notTheHolder(holder, input.family, input.user_id);
		const parked = row.deposits as Listed[];
		return c.json({
			ok: true as const,
			dry_run: true,
			...plan,
			deposits: parked.slice(0, MAX_ATTRIBUTE).map(listed),
			// More are parked than one call moves: apply these, then run the dry run again.
			more: parked.length > MAX_ATTRIBUTE,
		});
	}

	const auditId = crypto.randomUUID();
	const webhookId = `admin-attribute:${auditId}`;
	const txIds = input.tx_ids ?? [];
	const [row] = await db.query(APPLY, [...common, txIds, auditId, input.chain, webhookId]);
	if (!row?.admin_id) throw new ApiError("unauthorized", "this admin account no longer exists");
	if (!row.user_found) throw noSuchUser();
	const found = row.deposits as Listed[];
	if (!row.ok) {
		const holder = row.holder as Holder;
		if (holder?.user_id !== input.user_id) throw notTheHolder(holder, input.family, input.user_id);
		const byId = new Map(found.map((d) => [d.id, d]));
		const refused = txIds
			.filter((id) => !byId.get(id)?.movable)
			.map((id) => {
				const d = byId.get(id);
				if (!d) return { tx_id: id, reason: "no deposit with this tx_id" };
				if (d.status !== "unmatched")
					return { tx_id: id, reason: `the deposit is ${d.status}`, status: d.status };
				if (d.user_id)
					return { tx_id: id, reason: `already assigned to player ${d.user_id}`, status: d.status };
				return { tx_id: id, reason: "the deposit was not made to this address", status: d.status };
			});
		throw new ApiError(
			"conflict",
			`${refused.length} of the ${txIds.length} deposits listed cannot be moved, so none was: run the dry run again and apply what it lists`,
			{ refused, audit_log_id: row.audit_log_id },
		);
	}

	const messages = found.map((d) => settlementMessage(d, input.user_id, webhookId));
	for (const message of messages) {
		const parsed = parseDepositMessage(message);
		if (!parsed.success)
			throw new Error(`refusing to queue an invalid deposit message: ${parsed.error.message}`);
	}
	if (!(await enqueueAll(c.env.DEPOSITS, messages))) {
		await db
			.query(AUDIT_FAILED, [
				adminId,
				JSON.stringify({ ...plan, tx_ids: txIds, audit_log_id: auditId, webhook_id: webhookId }),
			])
			.catch((error) => console.error("could not record the failed attribution:", error));
		throw queueUnavailable(
			`the deposits are attributed to player ${input.user_id}, but the messages that settle them could not be queued; retry the same apply to send them`,
		);
	}
	return c.json(
		{ ok: true as const, dry_run: false, ...plan, deposits: found.map(listed), audit_log_id: auditId },
		202,
	);
});

function noSuchUser(): ApiError {
	return validationFailed("user_id names no user", [{ path: "user_id", message: "no such user" }]);
}
