/**
 * The contract between the edge Worker (producer) and the queue consumer.
 *
 * Versioned: during a canary, old and new versions of the Workers run side by side, so a
 * consumer must recognise every version a producer may still send, and a producer must never
 * change the meaning of a field within a version. Both sides parse with {@link parseDepositMessage}.
 *
 * @module
 */
import * as z from "./zod";

/** Chains whose deposits we accept; the path segment of `POST /api/v1/webhooks/:chain`. */
export const CHAINS = ["bep20", "erc20", "trc20"] as const;
export type Chain = (typeof CHAINS)[number];

/**
 * An amount the ledger holds exactly: NUMERIC(30,8), so at most 22 integer digits and 8
 * decimals, strictly positive, written as a plain decimal string (no exponent, no sign).
 */
export const AMOUNT_PATTERN = /^(?:0|[1-9]\d{0,21})(?:\.\d{1,8})?$/;
const amountSchema = z.string().check(
	z.regex(AMOUNT_PATTERN, "a decimal string with at most 22 integer digits and 8 decimals"),
	z.refine((s) => /[1-9]/.test(s), "must be greater than zero"),
);

const depositStatusSchema = z.enum(["pending", "confirmed", "removed"]);

const depositMessageV1 = z.object({
	v: z.literal(1),
	/** UUIDv5 of (chain, tx_hash, log_index): the id the sender got back, and the deposit's id. */
	tx_id: z.uuid(),
	chain: z.enum(CHAINS),
	tx_hash: z.string().check(z.minLength(1), z.maxLength(128)),
	log_index: z.number().check(z.int(), z.gte(0), z.lte(2_147_483_647)),
	amount: amountSchema,
	currency: z.string().check(z.regex(/^[A-Z0-9]{2,16}$/)),
	/** null when the sender did not say (the original's `{tx_hash, amount, metadata}` shape). */
	confirmations: z.nullable(z.number().check(z.int(), z.gte(0), z.lte(2_147_483_647))),
	status: depositStatusSchema,
	to_address: z.nullable(z.string().check(z.minLength(1), z.maxLength(128))),
	user_id: z.nullable(z.uuid()),
	/** Decimal string: block numbers outgrow JavaScript's safe integers on some chains. */
	block_number: z.nullable(z.string().check(z.regex(/^\d{1,20}$/))),
	metadata: z.nullable(z.record(z.string(), z.unknown())),
	/** The sender's webhook id (`webhook-id`), or one the edge made up for legacy senders. */
	webhook_id: z.string().check(z.minLength(1), z.maxLength(256)),
	/** When the edge accepted the webhook, ISO 8601; settle lag is measured from here. */
	received_at: z.iso.datetime(),
	/**
	 * The configured webhook source that sent it (e.g. "moralis"). Optional, added within v1:
	 * messages of earlier producers have none, and consumers that predate it ignore it.
	 */
	source: z.optional(z.string().check(z.regex(/^[a-z][a-z0-9_-]{0,31}$/))),
	/**
	 * The edge Worker's version id that took the webhook (`CF_VERSION_METADATA.id`), for the
	 * deposit's record of deliveries. Optional, added within v1, as `source`.
	 */
	edge_version: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});

const depositMessageSchema = z.discriminatedUnion("v", [depositMessageV1]);
export type DepositMessage = z.infer<typeof depositMessageSchema>;
export type DepositMessageV1 = z.infer<typeof depositMessageV1>;

/** Parses a queue body; the error lists every field that is wrong. */
export function parseDepositMessage(body: unknown) {
	return depositMessageSchema.safeParse(body);
}
