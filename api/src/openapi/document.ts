/**
 * The OpenAPI 3.1 document of the edge Worker's HTTP API, served at `/api/v1/openapi.json`.
 * Request bodies and query strings are the routes' own zod schemas, turned into JSON Schema
 * (2020-12, OpenAPI 3.1's dialect) by zod's `toJSONSchema`: a route's validation and its
 * documentation are one object, so they cannot drift. Each operation names its route as Hono
 * registers it; a test checks that every registered route is documented and nothing else is.
 * Built once per isolate, with nothing beyond zod (already in the bundle).
 *
 * @module
 */

import { CHAINS } from "../../../schema/queue-message";
import * as z from "../../../schema/zod";
import { STATUS_OF } from "../../../shared/http/errors";
import { schemaFor as webhookBodySchema } from "../../../shared/webhook/payload";
import { resolveConflictSchema } from "../routes/admin/conflict-resolution";
import { listQuery as deadLetterListQuery } from "../routes/admin/dead-letters";
import { importSchema as poolImportSchema } from "../routes/admin/deposit-address-pool";
import {
	listSchema as addressListSchema,
	registerSchema as addressRegisterSchema,
} from "../routes/admin/deposit-addresses";
import { assignSchema } from "../routes/admin/deposit-assign";
import { attributeSchema } from "../routes/admin/deposit-attribute";
import { reviewSchema } from "../routes/admin/deposit-review";
import { byStatusQuery, listQuery as unmatchedListQuery } from "../routes/admin/deposits";
import { listQuery as lastNetListQuery, redriveQuery as lastNetRedriveQuery } from "../routes/admin/last-net";
import { settlementChangeSchema } from "../routes/admin/settlement";
import { resolveShortfallSchema, listQuery as shortfallListQuery } from "../routes/admin/shortfalls";
import { loginSchema } from "../routes/auth/login";
import { refreshSchema } from "../routes/auth/refresh";
import { registerSchema } from "../routes/auth/register";
import { bodySchema as depositAddressBody } from "../routes/deposit-address";
import { listQuery as transactionsListQuery } from "../routes/transactions";

type Json = Record<string, unknown>;
type Method = "get" | "post";

/** A request's schema as a client sends it (before the route's transforms). */
function jsonSchema(schema: z.ZodMiniType): Json {
	const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
	return rest;
}

/** The one error shape of every failure (errors.ts): a 422 lists its failing fields. */
const errorEnvelope = {
	type: "object",
	required: ["ok", "error"],
	properties: {
		ok: { const: false },
		error: {
			type: "object",
			required: ["code", "message", "request_id"],
			properties: {
				code: { enum: Object.keys(STATUS_OF) },
				message: { type: "string" },
				request_id: {
					type: "string",
					description:
						"Cloudflare's cf-ray of the request (else a generated id), also in the Request-Id header",
				},
				fields: {
					type: "array",
					description: "Each failing input field: its dotted path (e.g. `metadata.note`) and what is wrong",
					items: {
						type: "object",
						required: ["path", "message"],
						properties: { path: { type: "string" }, message: { type: "string" } },
						additionalProperties: false,
					},
				},
			},
			additionalProperties: true,
		},
	},
} satisfies Json;

interface Operation {
	method: Method;
	/** The route as Hono registers it (`:param`). */
	route: string;
	tag: string;
	summary: string;
	auth?: "user" | "admin" | "user or admin" | "webhook";
	body?: z.ZodMiniType | Json;
	query?: z.ZodMiniObject;
	/** Status → description of the success answers; the error answers are added. */
	ok: Record<number, string>;
	/** Error answers of the route's own, beyond those its auth, body and parameters imply ({@link errorsOf}). */
	errors?: number[];
}

const page = "a page `{items, next_cursor}`, newest first";

/** An admin route: below `/api/v1/admin` (as the admin router mounts it), for admins only. */
function admin(
	method: Method,
	path: string,
	rest: Pick<Operation, "summary" | "body" | "query" | "ok" | "errors">,
): Operation {
	return { method, route: `/api/v1/admin${path}`, tag: "admin", auth: "admin", ...rest };
}

const OPERATIONS: Operation[] = [
	{
		method: "get",
		route: "/api/v1/health",
		tag: "health",
		summary: "Liveness; `?deep=1` also checks the database",
		ok: { 200: '`{status: "ok", ...}`' },
		errors: [429, 503],
	},
	{
		method: "get",
		route: "/api/v1/openapi.json",
		tag: "health",
		summary: "This document",
		ok: { 200: "the OpenAPI 3.1 document" },
	},
	{
		method: "post",
		route: "/api/v1/webhooks/:name",
		tag: "webhooks",
		summary: `A deposit webhook: a chain (${CHAINS.join(", ")}) in our format, or a provider source (moralis, alchemy) in its own`,
		auth: "webhook",
		body: webhookBodySchema("bep20"),
		ok: {
			200: "a duplicate, or nothing to enqueue",
			202: "`{ok: true, tx_id}`: accepted, settled exactly once",
		},
		errors: [404, 429, 503],
	},
	...(["/api/v1", "/api/v1/auth"] as const).flatMap((prefix): Operation[] => [
		{
			method: "post",
			route: `${prefix}/register`,
			tag: "accounts",
			summary: "Register a player (and its wallet)",
			body: registerSchema,
			ok: { 201: "the user and its wallet" },
			errors: [409, 429, 503],
		},
		{
			method: "post",
			route: `${prefix}/login`,
			tag: "accounts",
			summary: "Log in; admins add their TOTP code",
			body: loginSchema,
			ok: { 200: "`{access_token, refresh_token, token_type, expires_in, role}`" },
			errors: [401, 403, 429, 503],
		},
		{
			method: "post",
			route: `${prefix}/refresh`,
			tag: "accounts",
			summary: "Trade a refresh token for a new pair",
			body: refreshSchema,
			ok: { 200: "a new token pair" },
			errors: [401, 429, 503],
		},
	]),
	{
		method: "get",
		route: "/api/v1/wallet",
		tag: "wallet",
		summary: "The player's balances and deposit addresses",
		auth: "user",
		ok: { 200: "balances as exact decimal strings" },
		errors: [404],
	},
	{
		method: "post",
		route: "/api/v1/wallet/deposit-address",
		tag: "wallet",
		summary: "The player's deposit address for a chain's family, issued from the pool",
		auth: "user",
		body: depositAddressBody,
		ok: { 200: "the address issued before", 201: "a newly issued address" },
	},
	{
		method: "get",
		route: "/api/v1/transactions",
		tag: "wallet",
		summary: "The player's ledger rows",
		auth: "user",
		query: transactionsListQuery,
		ok: { 200: page },
	},
	{
		method: "get",
		route: "/api/v1/transactions/:tx_id",
		tag: "wallet",
		summary: "Where one deposit stands",
		auth: "user or admin",
		ok: { 200: "its status, confirmations and threshold" },
		errors: [404],
	},
	admin("get", "/deposits", {
		summary: "Deposits in any state (`?status=held`: the held-for-review queue)",
		query: byStatusQuery,
		ok: { 200: page },
	}),
	admin("post", "/deposits/attribute", {
		summary: "The deposits parked for an address, to the player who holds it (dry run unless `apply`)",
		body: attributeSchema,
		ok: { 200: "the dry run: the deposits that would move", 202: "the listed deposits moved" },
		errors: [404, 409],
	}),
	admin("post", "/deposits/:tx_id/review", {
		summary: "Resolve a held deposit: reject it, or release it to settlement",
		body: reviewSchema,
		ok: { 200: "rejected, or released to unmatched", 202: "released to settlement" },
		errors: [404, 409],
	}),
	admin("get", "/last-net", {
		summary: "What the dead-letter queue could not store in Postgres, kept in R2",
		query: lastNetListQuery,
		ok: { 200: "the stored messages" },
	}),
	admin("post", "/last-net/redrive", {
		summary: "Put up to `limit` last-net messages back on the dead-letter queue",
		query: lastNetRedriveQuery,
		ok: { 202: "the messages put back" },
	}),
	admin("get", "/deposits/unmatched", {
		summary: "Deposits parked for no known player or address",
		query: unmatchedListQuery,
		ok: { 200: page },
	}),
	admin("get", "/deposits/conflicts", {
		summary: "Unresolved deliveries that disagree with a known deposit",
		query: unmatchedListQuery,
		ok: { 200: page },
	}),
	admin("post", "/deposits/conflicts/:id/resolve", {
		summary: "Mark a conflict reviewed, with a note (nothing in the ledger moves)",
		body: resolveConflictSchema,
		ok: { 200: "`{ok: true, conflict_id, tx_id, audit_log_id}`" },
		errors: [404, 409],
	}),
	admin("get", "/shortfalls", {
		summary: "Open reversal shortfalls (a reorg took back more than the wallet held; the player is frozen)",
		query: shortfallListQuery,
		ok: { 200: "`{ok: true, items: [...]}`" },
	}),
	admin("post", "/shortfalls/:id/resolve", {
		summary:
			"Resolve a shortfall with a note; unfreeze the player once none of theirs is open, if a shortfall froze them",
		body: resolveShortfallSchema,
		ok: {
			200: "`{ok: true, shortfall_id, tx_id, user_id, unfrozen, froze_player, other_open_shortfalls, user_status, audit_log_id}`",
		},
		errors: [404, 409],
	}),
	admin("get", "/settlement", {
		summary: "Whether settlement is paused: since when, by whom, why",
		ok: { 200: "`{ok: true, paused, paused_at, paused_by, reason}`" },
	}),
	admin("post", "/settlement/pause", {
		summary: "Pause settlement: webhooks are still taken and queued, nothing is credited until the resume",
		body: settlementChangeSchema,
		ok: { 200: "`{ok: true, changed, audit_log_id, paused, paused_at, paused_by, reason}`" },
	}),
	admin("post", "/settlement/resume", {
		summary: "Resume settlement: what waited on the queue is settled, each deposit once",
		body: settlementChangeSchema,
		ok: { 200: "`{ok: true, changed, audit_log_id, paused, paused_at, paused_by, reason}`" },
	}),
	admin("post", "/deposits/:tx_id/assign", {
		summary: "Attribute an unmatched deposit to a player (settled once, through the queue)",
		body: assignSchema,
		ok: { 202: "`{ok: true, tx_id, user_id, audit_log_id}`" },
		errors: [404, 409],
	}),
	admin("get", "/dead-letters", {
		summary: "Messages settlement gave up on",
		query: deadLetterListQuery,
		ok: { 200: page },
	}),
	admin("post", "/dead-letters/:id/redrive", {
		summary: "Put a dead letter back on the queue",
		ok: { 202: "`{ok: true, dead_letter_id, tx_id, audit_log_id}`" },
		errors: [404, 409],
	}),
	admin("post", "/deposit-addresses/pool", {
		summary: "Import addresses the platform's wallet generated into the pool",
		body: poolImportSchema,
		ok: { 200: "each address imported, already present or invalid" },
	}),
	admin("get", "/deposit-addresses/pool", {
		summary: "The pool per family: unissued, issued, retired, registered",
		ok: { 200: "counts per family" },
	}),
	admin("post", "/deposit-addresses", {
		summary: "Register a platform address to a player for its whole family",
		body: addressRegisterSchema,
		ok: { 201: "the registration" },
		errors: [404, 409],
	}),
	admin("get", "/deposit-addresses", {
		summary: "Who holds which address",
		query: addressListSchema,
		ok: { 200: page },
	}),
];

/** The documented routes, as Hono registers them, for the test that compares the two. */
export const DOCUMENTED_ROUTES = OPERATIONS.map((o) => `${o.method.toUpperCase()} ${o.route}`);

/**
 * The error answers of an operation: those its auth, body and parameters imply (a bearer token:
 * 401, 403 and 503 while its account is checked; a signature: 401; a JSON body: 400, 413, 415
 * and 422; a query or a uuid path parameter: 422), and its own.
 */
function errorsOf(o: Operation): number[] {
	const statuses = new Set(o.errors);
	if (o.auth === "webhook") statuses.add(401);
	else if (o.auth) for (const s of [401, 403, 503]) statuses.add(s);
	if (o.body) for (const s of [400, 413, 415, 422]) statuses.add(s);
	if (o.query || /:(?!name\b)/.test(o.route)) statuses.add(422);
	return [...statuses].sort((a, b) => a - b);
}

const STATUS_TEXT: Record<number, string> = {
	400: "malformed request",
	401: "no valid credentials (or signature)",
	403: "credentials of the wrong role, or an account that may not do this",
	404: "no such resource",
	409: "the resource is not in a state that allows this",
	413: "the body is too large",
	415: "the body is not JSON",
	422: "the input fails validation; every failing field is listed",
	429: "rate limited or account locked; see Retry-After",
	503: "a dependency (database, queue, limiter) is unavailable; retry after Retry-After, nothing was done",
};

function operation(o: Operation): Json {
	const params = [...o.route.matchAll(/:([a-z_]+)/g)].map((m) => ({
		name: m[1],
		in: "path",
		required: true,
		schema: m[1] === "name" ? { type: "string" } : { type: "string", format: "uuid" },
	}));
	if (o.query) {
		const schema = jsonSchema(o.query) as { properties?: Record<string, Json>; required?: string[] };
		for (const [name, property] of Object.entries(schema.properties ?? {})) {
			params.push({
				name,
				in: "query",
				required: schema.required?.includes(name) ?? false,
				schema: property,
			} as never);
		}
	}
	const responses: Json = {};
	for (const [status, description] of Object.entries(o.ok)) responses[status] = { description };
	for (const status of errorsOf(o)) {
		responses[status] = {
			description: STATUS_TEXT[status],
			content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
		};
	}
	const security =
		o.auth === "webhook"
			? [{ standardWebhooks: [] }, { xSignature: [] }, { providerSignature: [] }]
			: o.auth
				? [{ bearer: [] }]
				: [];
	return {
		operationId: `${o.method}${o.route.replace(/^\/api\/v1/, "").replace(/[/:.-]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
		tags: [o.tag],
		summary: o.summary,
		...(o.auth && o.auth !== "webhook"
			? { description: `Needs the access token of a ${o.auth} account.` }
			: {}),
		...(params.length ? { parameters: params } : {}),
		...(o.body
			? {
					requestBody: {
						required: true,
						content: {
							"application/json": { schema: o.body instanceof z.ZodMiniType ? jsonSchema(o.body) : o.body },
						},
					},
				}
			: {}),
		responses,
		security,
	};
}

let built: Json | undefined;

/** The document (built on first use, then kept). */
export function openApiDocument(): Json {
	if (built) return built;
	const paths: Record<string, Record<string, Json>> = {};
	for (const o of OPERATIONS) {
		const path = o.route.replace(/:([a-z_]+)/g, "{$1}");
		paths[path] = { ...paths[path], [o.method]: operation(o) };
	}
	built = {
		openapi: "3.1.1",
		info: {
			title: "CricAlgo Edge",
			version: "1",
			description:
				"Deposit webhooks at the edge, settled exactly once into the ledger; accounts, wallets and the admin review routes. Every error answers the one shape `Error`.",
		},
		servers: [{ url: "/" }],
		paths,
		components: {
			schemas: { Error: errorEnvelope },
			securitySchemes: {
				bearer: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
				standardWebhooks: {
					type: "apiKey",
					in: "header",
					name: "webhook-signature",
					description:
						"Standard Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>` (or the svix-* names)",
				},
				xSignature: {
					type: "apiKey",
					in: "header",
					name: "X-Signature",
					description:
						"The original senders: `sha256=<hex HMAC-SHA256 of the body>` (or X-Hub-Signature-256)",
				},
				providerSignature: {
					type: "apiKey",
					in: "header",
					name: "x-signature",
					description: "Moralis (`x-signature`) or Alchemy (`X-Alchemy-Signature`) at their source's path",
				},
			},
		},
	};
	return built;
}
