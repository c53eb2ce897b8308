/**
 * Field checks shared by the provider payload parsers (Moralis, Alchemy): hashes, addresses and
 * integers as providers write them, and text that the ledger can store.
 *
 * @module
 */
import * as z from "../../../schema/zod";
import { findUnstorable } from "../../../shared/webhook/storable-json";

/** Most transfers one request may carry (a block's worth of deposits to the platform, with room). */
export const MAX_TRANSFERS = 1000;
const MAX_INT4 = 2_147_483_647;

export const txHash = z.pipe(
	z
		.string({ error: "must be a transaction hash" })
		.check(z.regex(/^0x[0-9a-fA-F]{64}$/, "must be 0x followed by 64 hex digits")),
	z.transform((v: string) => v.toLowerCase()),
);

export const evmAddress = z.pipe(
	z
		.string({ error: "must be an address" })
		.check(z.regex(/^0x[0-9a-fA-F]{40}$/, "must be 0x followed by 40 hex digits")),
	z.transform((v: string) => v.toLowerCase()),
);

/** Text copied into the ledger: bounded, and free of what Postgres refuses. */
export function storableText(max: number) {
	return z.string({ error: "must be a string" }).check(
		z.maxLength(max, `is longer than ${max} characters`),
		z.superRefine((v: string, ctx) => {
			const problem = findUnstorable(v);
			if (problem) ctx.addIssue({ code: "custom", message: problem.message, params: { unstorable: true } });
		}),
	);
}

/** A non-negative integer written in decimal digits (Moralis writes every number as a string). */
export const decimalDigits = (maxDigits: number) =>
	z
		.string({ error: "must be a decimal digit string" })
		.check(z.regex(new RegExp(`^\\d{1,${maxDigits}}$`), "must be decimal digits"));

/** An int4 written as decimal digits or as a JSON integer. */
export const smallInteger = z
	.pipe(
		z.union([decimalDigits(10), z.number().check(z.int())], { error: "must be a whole number" }),
		z.transform(Number),
	)
	.check(z.refine((n) => n >= 0 && n <= MAX_INT4, `must be a whole number from 0 to ${MAX_INT4}`));

/** A hex quantity (`0x…`, as JSON-RPC writes numbers) as a BigInt. */
export const hexQuantity = (maxDigits: number) =>
	z.pipe(
		z
			.string({ error: "must be a hex quantity such as 0x1f" })
			.check(z.regex(new RegExp(`^0x[0-9a-fA-F]{1,${maxDigits}}$`), "must be 0x followed by hex digits")),
		z.transform((v: string) => BigInt(v)),
	);

const MAX_INT8 = 9_223_372_036_854_775_807n;

/** A block number (decimal digits, or a `0x` hex quantity) as canonical decimal text within bigint. */
export const blockNumber = z.pipe(
	z
		.pipe(
			z
				.string({ error: "must be a block number" })
				.check(
					z.regex(/^(?:\d{1,20}|0x[0-9a-fA-F]{1,16})$/, "must be a block number in decimal digits or 0x hex"),
				),
			z.transform((v: string) => BigInt(v)),
		)
		.check(z.refine((n) => n <= MAX_INT8, "is larger than a block number can be")),
	z.transform((n: bigint) => n.toString()),
);
