/**
 * The deposit webhook body: parsed exactly, validated with zod, normalised into the fields of the
 * queue message (schema/queue-message.ts).
 *
 * Both shapes the original senders post are accepted:
 * - `{tx_hash, amount, metadata}` (the smoke and batch senders; `confirmations` may be added),
 *   where the player, when known, is `metadata.user_id`;
 * - `{tx_hash, confirmations, chain, to_address, amount, currency, status, block_number,
 *   user_id, metadata}` (the blockchain watcher), plus `log_index`.
 * Unknown top-level fields are ignored; `null` means absent, as in the original API.
 *
 * Rules (each broken rule is a 422 naming the field):
 * - No key appears twice anywhere in the body (./json-scan.ts): parsers disagree on
 *   which copy of a repeated key counts, so a signed body must be read one way only.
 * - `tx_hash` per chain: EVM chains (bep20, erc20) `0x` + 64 hex; TRON (trc20) 64 hex with or
 *   without `0x`. Normalised to lower case, TRON without `0x`, so the deterministic `tx_id` of a
 *   redelivery does not depend on how the sender spelled the hash.
 * - `amount` (required): a decimal string, canonicalised exactly (see ../decimal.ts), written
 *   without spaces around it. A JSON number is converted from its exact source text, never
 *   through a float (`10.50` → "10.5"); one in exponent form (`1e3`) is refused.
 * - `confirmations`, `log_index`: whole numbers >= 0 (digit strings accepted, as the original
 *   coerced them); `confirmations` absent → null, `log_index` absent → 0.
 * - `block_number`: a whole number within Postgres bigint, carried as a decimal string.
 * - `to_address`: checked as every address that enters is (schema/address-format.ts): EVM
 *   `0x` + 40 hex, an EIP-55 checksum verified when the case is mixed, lower-cased; TRON
 *   base58check with its checksum verified and its case kept (a changed case fails it).
 * - `currency`: default USDT, case-insensitive, one of {@link CURRENCIES}.
 * - `chain` in the body, if given, must name the chain of the URL.
 * - `status`: pending | confirmed | removed, with synonyms (see {@link STATUS_SYNONYMS});
 *   absent → confirmed (the original's default).
 * - `user_id`: a UUID (users.id is uuid). `metadata.user_id` is taken as the user id when the
 *   top-level field is absent and it is a UUID; other values there (the original senders also
 *   put Telegram ids or notes there) stay metadata only, and the deposit is attributed by address
 *   or parked as unmatched. Top-level and metadata ids that disagree are refused.
 * - `metadata`: an object of at most {@link METADATA_MAX_BYTES} bytes as JSON and
 *   {@link METADATA_MAX_DEPTH} levels of nesting, holding nothing the ledger cannot store
 *   (./storable-json.ts: U+0000, lone surrogates, numbers a double cannot hold exactly).
 *
 * @module
 */

import { parseChainAddress } from "../../schema/address-format";
import type { Chain, DepositMessageV1 } from "../../schema/queue-message";
import * as z from "../../schema/zod";
import {
	canonicalAmount,
	canonicalInteger,
	type Exact,
	ExactNumber,
	exactJson,
	isPlainObject,
} from "../decimal";
import { describeFields, type FieldError, fieldErrors, MAX_FIELD_ERRORS } from "../http/errors";
import { type DuplicateKey, scanJson } from "./json-scan";
import { findUnstorable } from "./storable-json";

export const METADATA_MAX_BYTES = 4096;
export const METADATA_MAX_DEPTH = 5;
/** Currencies the platform takes deposits in. */
export const CURRENCIES = ["USDT"] as const;
const MAX_INT4 = "2147483647";
const MAX_INT8 = "9223372036854775807";

/**
 * Sender status words → the three statuses of the queue message. A Map, not an object: a word
 * such as `__proto__` or `constructor` must not find one of Object's own properties.
 */
export const STATUS_SYNONYMS: ReadonlyMap<string, DepositMessageV1["status"]> = new Map([
	["pending", "pending"],
	["unconfirmed", "pending"],
	["confirming", "pending"],
	["confirmed", "confirmed"],
	["success", "confirmed"],
	["succeeded", "confirmed"],
	["completed", "confirmed"],
	["finalized", "confirmed"],
	["removed", "removed"],
	["reorged", "removed"],
	["reorg", "removed"],
	["orphaned", "removed"],
	["dropped", "removed"],
	["replaced", "removed"],
	["failed", "removed"],
	["reverted", "removed"],
]);

/** The validated deposit: the queue message's fields that come from the body. */
export type DepositFields = Omit<DepositMessageV1, "v" | "tx_id" | "webhook_id" | "received_at">;

/** Why a body was refused, for the metrics data point. */
export type PayloadRefusal = "invalid_json" | "duplicate_key" | "unstorable_text" | "validation_failed";

/**
 * A refused body: `invalid_json` when it is not a JSON object (answered 400), otherwise the
 * failing fields (answered 422); lib/webhook-intake.ts `refusePayload` answers it.
 */
export type PayloadFailure = { ok: false; reason: PayloadRefusal; message: string; fields: FieldError[] };

export type PayloadResult = { ok: true; deposit: DepositFields } | PayloadFailure;

const EVM = { txHash: /^0x[0-9a-f]{64}$/ };
const TRON = { txHash: /^(?:0x)?[0-9a-f]{64}$/ };
const UUID = z.uuid();

type Ctx = z.core.ParsePayload;

/** Reports an `Exact` failure as a zod issue and yields the canonical text otherwise. */
function exact(result: Exact, ctx: Ctx): string {
	if (!result.ok) z.addIssue(ctx, { message: result.message });
	return result.ok ? result.value : "";
}

/** A whole number given as a JSON number, a digit string, or an exact-number wrapper. */
function wholeNumber(max: string) {
	return z.pipe(
		z.optional(z.unknown()),
		z.transform((value: unknown, ctx): string | null => {
			if (value === undefined || value === null) return null;
			if (typeof value === "number") {
				return Number.isSafeInteger(value)
					? exact(canonicalInteger(String(value), max), ctx)
					: exact({ ok: false, message: "must be a whole number of at least 0" }, ctx);
			}
			if (value instanceof ExactNumber) {
				return exact(
					value.source === undefined
						? { ok: false, message: "send large numbers as a digit string" }
						: canonicalInteger(value.source, max),
					ctx,
				);
			}
			if (typeof value === "string") return exact(canonicalInteger(value.trim(), max), ctx);
			return exact({ ok: false, message: "must be a whole number" }, ctx);
		}),
	);
}

const optionalText = (max: number, label: string) =>
	z.pipe(
		z.nullish(
			z
				.string({ error: `must be a string (${label})` })
				.check(
					z.trim(),
					z.minLength(1, { error: `must not be empty (${label})` }),
					z.maxLength(max, { error: `is longer than ${max} characters (${label})` }),
				),
		),
		z.transform((v: string | null | undefined) => v ?? null),
	);

const encoder = new TextEncoder();

/** Whether `text` takes more than `max` bytes as UTF-8 (1 to 3 bytes per UTF-16 unit), encoding it only when its length alone does not tell. */
function longerThan(text: string, max: number): boolean {
	if (text.length > max) return true;
	if (text.length * 3 <= max) return false;
	return encoder.encode(text).length > max;
}

function depth(value: unknown, limit: number): number {
	// Stops as soon as the limit is passed, so hostile nesting costs at most `limit` levels of stack.
	if (typeof value !== "object" || value === null) return 0;
	if (limit < 0) return 1;
	let deepest = 0;
	for (const child of Object.values(value)) {
		deepest = Math.max(deepest, depth(child, limit - 1));
		if (deepest > limit) break;
	}
	return 1 + deepest;
}

const metadataSchema = z.pipe(
	z.optional(z.unknown()),
	z.transform((value: unknown, ctx): Record<string, unknown> | null => {
		if (value === undefined || value === null) return null;
		if (!isPlainObject(value)) {
			z.addIssue(ctx, { message: "must be a JSON object" });
			return null;
		}
		if (depth(value, METADATA_MAX_DEPTH) > METADATA_MAX_DEPTH) {
			z.addIssue(ctx, { message: `is nested more than ${METADATA_MAX_DEPTH} levels deep` });
			return null;
		}
		const unstorable = findUnstorable(value);
		if (unstorable) {
			z.addIssue(ctx, { path: [unstorable.path], message: unstorable.message, params: { unstorable: true } });
			return null;
		}
		if (longerThan(JSON.stringify(value), METADATA_MAX_BYTES)) {
			z.addIssue(ctx, { message: `is larger than ${METADATA_MAX_BYTES} bytes as JSON` });
			return null;
		}
		// Passed through as parsed (not rebuilt key by key), so keys such as "__proto__" stay data.
		return value;
	}),
);

function bodySchema(chain: Chain) {
	const formats = chain === "trc20" ? TRON : EVM;
	return z.pipe(
		z.object({
			tx_hash: z.pipe(
				z
					.pipe(
						z
							.string({ error: (issue) => (issue.input == null ? "is required" : "must be a string") })
							.check(z.maxLength(130, { error: "is not a transaction hash" })),
						z.transform((v: string) => v.trim().toLowerCase()),
					)
					.check(
						z.refine((v) => formats.txHash.test(v), {
							error:
								chain === "trc20"
									? "must be 64 hex digits (0x optional)"
									: "must be 0x followed by 64 hex digits",
						}),
					),
				z.transform((v: string) => (chain === "trc20" ? v.replace(/^0x/, "") : v)),
			),
			amount: z.pipe(
				z.optional(z.unknown()),
				z.transform((value: unknown, ctx): string => {
					if (value === undefined || value === null) return exact({ ok: false, message: "is required" }, ctx);
					// Not trimmed: an amount is money, written exactly as the ledger will hold it.
					if (typeof value === "string") return exact(canonicalAmount(value), ctx);
					if (value instanceof ExactNumber) {
						return exact(
							value.source === undefined
								? { ok: false, message: 'send the amount as a decimal string, e.g. "20.5"' }
								: canonicalAmount(value.source),
							ctx,
						);
					}
					return exact({ ok: false, message: 'must be a decimal string, e.g. "20.5"' }, ctx);
				}),
			),
			confirmations: z.pipe(
				wholeNumber(MAX_INT4),
				z.transform((v: string | null) => (v === null ? null : Number(v))),
			),
			log_index: z.pipe(
				wholeNumber(MAX_INT4),
				z.transform((v: string | null) => (v === null ? 0 : Number(v))),
			),
			block_number: wholeNumber(MAX_INT8),
			chain: z.nullish(z.string({ error: "must be a string" })).check(
				z.refine((v) => v == null || v.trim().toLowerCase() === chain, {
					error: `must match the chain of the URL (${chain})`,
				}),
			),
			to_address: z.pipe(
				optionalText(128, "a deposit address"),
				z.transform((v: string | null, ctx) => {
					if (v === null) return null;
					const parsed = parseChainAddress(chain, v);
					if (parsed.ok) return parsed.address;
					z.addIssue(ctx, { message: parsed.message });
					return z.NEVER;
				}),
			),
			currency: z
				.pipe(
					z.nullish(z.string({ error: "must be a string" })),
					z.transform((v: string | null | undefined) => (v == null ? "USDT" : v.trim().toUpperCase())),
				)
				.check(
					z.refine((v) => (CURRENCIES as readonly string[]).includes(v), {
						error: `must be one of ${CURRENCIES.join(", ")}`,
					}),
				),
			status: z.pipe(
				z.nullish(z.string({ error: "must be a string" })),
				z.transform((v: string | null | undefined, ctx) => {
					if (v == null) return "confirmed" as const;
					const status = STATUS_SYNONYMS.get(v.trim().toLowerCase());
					if (!status) {
						z.addIssue(ctx, {
							message: `is not a known status; use pending, confirmed or removed (or ${[...STATUS_SYNONYMS.keys()].join(", ")})`,
						});
						return z.NEVER;
					}
					return status;
				}),
			),
			user_id: z.pipe(
				z.nullish(z.string({ error: "must be a UUID string" })),
				z.transform((v: string | null | undefined, ctx) => {
					if (v == null) return null;
					const id = v.trim().toLowerCase();
					if (UUID.safeParse(id).success) return id;
					z.addIssue(ctx, { message: "must be a UUID (the player's users.id)" });
					return z.NEVER;
				}),
			),
			metadata: metadataSchema,
		}),
		z.transform((body, ctx): DepositFields => {
			const candidate = body.metadata?.user_id;
			const fromMetadata =
				typeof candidate === "string" && UUID.safeParse(candidate.trim().toLowerCase()).success
					? candidate.trim().toLowerCase()
					: null;
			if (body.user_id && fromMetadata && body.user_id !== fromMetadata) {
				z.addIssue(ctx, { path: ["user_id"], message: "disagrees with metadata.user_id" });
			}
			return {
				chain,
				tx_hash: body.tx_hash,
				log_index: body.log_index,
				amount: body.amount,
				currency: body.currency,
				confirmations: body.confirmations,
				status: body.status,
				to_address: body.to_address,
				user_id: body.user_id ?? fromMetadata,
				block_number: body.block_number,
				metadata: body.metadata,
			};
		}),
	);
}

// Built once per isolate: building a zod schema costs far more than running it.
const schemas = new Map<Chain, ReturnType<typeof bodySchema>>();
export function schemaFor(chain: Chain) {
	const schema = schemas.get(chain) ?? bodySchema(chain);
	schemas.set(chain, schema);
	return schema;
}

/** The 422 for a key given twice, naming it. */
export function duplicateKeyFailure({ path, key }: DuplicateKey): PayloadFailure {
	const fields = [
		{
			path: path ? `${path}.${key}` : key,
			message:
				"is given more than once: each key may appear once in a signed body, since parsers disagree on which copy counts",
		},
	];
	return { ok: false, reason: "duplicate_key", message: describeFields(fields), fields };
}

/** A body that is not a JSON object. */
export function invalidJson(message: string): PayloadFailure {
	return { ok: false, reason: "invalid_json", message, fields: [] };
}

/**
 * Parses and validates a webhook body (already decoded as UTF-8) for `chain`.
 *
 * @example
 * ```ts
 * const result = parseWebhookPayload('{"tx_hash":"0x…","amount":"20.5"}', "bep20");
 * if (!result.ok) refusePayload(c, result);
 * ```
 */
export function parseWebhookPayload(text: string, chain: Chain): PayloadResult {
	let json: unknown;
	try {
		json = JSON.parse(text);
	} catch (error) {
		return invalidJson(`the body is not valid JSON: ${(error as Error).message}`);
	}
	if (!isPlainObject(json)) return invalidJson("the body must be a JSON object");
	const scan = scanJson(text);
	if (scan.duplicate) return duplicateKeyFailure(scan.duplicate);
	const parsed = schemaFor(chain).safeParse(exactJson(text, json, scan.longNumbers));
	if (parsed.success) return { ok: true, deposit: parsed.data };
	const fields = fieldErrors(parsed.error.issues, { max: MAX_FIELD_ERRORS });
	const unstorable = parsed.error.issues.some((i) => i.code === "custom" && i.params?.unstorable);
	return {
		ok: false,
		reason: unstorable ? "unstorable_text" : "validation_failed",
		message: describeFields(fields),
		fields,
	};
}
