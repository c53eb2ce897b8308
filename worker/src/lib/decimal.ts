/**
 * Exact decimals from webhook bodies, never through a JavaScript float.
 *
 * Amounts become canonical decimal strings that the ledger's NUMERIC(30,8) holds exactly:
 * leading zeros of the integer part and trailing zeros of the fraction are dropped ("020.50" →
 * "20.5"), so every redelivery of one deposit carries the same text. Anything the ledger could
 * only hold by rounding (a 9th significant decimal, 23 integer digits) is refused, never rounded.
 *
 * A JSON number's exact text comes from `JSON.parse`'s reviver context (`context.source`, the
 * "JSON.parse source text access" feature of V8 in workerd), so `10.50` arrives as "10.50", not as
 * the float 10.5, and `12345678901234567890` keeps all its digits.
 *
 * @module
 */

/** Longest amount text considered at all; longer text is refused before any pattern runs. */
const MAX_AMOUNT_TEXT = 64;
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const INTEGER = /^\d+$/;
const MAX_INTEGER_DIGITS = 22;
const MAX_DECIMALS = 8;

export type Exact = { ok: true; value: string } | { ok: false; message: string };

/**
 * Canonicalises a positive amount for NUMERIC(30,8).
 *
 * @example
 * ```ts
 * canonicalAmount("020.500"); // { ok: true, value: "20.5" }
 * canonicalAmount("1e3");     // { ok: false, message: "must be a plain decimal ..." }
 * ```
 */
export function canonicalAmount(text: string): Exact {
	const match = text.length <= MAX_AMOUNT_TEXT ? DECIMAL.exec(text) : null;
	if (!match) {
		return {
			ok: false,
			message:
				'must be a plain decimal such as "20.5": digits, an optional point and decimals; no sign, exponent or spaces',
		};
	}
	const integer = match[1]!.replace(/^0+(?=\d)/, "");
	const fraction = (match[2] ?? "").replace(/0+$/, "");
	if (integer.length > MAX_INTEGER_DIGITS) {
		return {
			ok: false,
			message: `has more than ${MAX_INTEGER_DIGITS} integer digits: the ledger holds NUMERIC(30,8)`,
		};
	}
	if (fraction.length > MAX_DECIMALS) {
		return {
			ok: false,
			message: `has more than ${MAX_DECIMALS} decimals: the ledger holds ${MAX_DECIMALS} and never rounds`,
		};
	}
	const value = fraction ? `${integer}.${fraction}` : integer;
	if (!/[1-9]/.test(value)) return { ok: false, message: "must be greater than zero" };
	return { ok: true, value };
}

/**
 * Canonicalises a non-negative integer given as text, within `max` (itself a decimal string,
 * compared as a BigInt so that 64-bit values stay exact).
 *
 * @example
 * ```ts
 * canonicalInteger("00042", "9223372036854775807"); // { ok: true, value: "42" }
 * ```
 */
export function canonicalInteger(text: string, max: string): Exact {
	if (text.length > max.length + 8 || !INTEGER.test(text)) {
		return { ok: false, message: "must be a whole number of at least 0, written with digits only" };
	}
	const value = text.replace(/^0+(?=\d)/, "");
	if (BigInt(value) > BigInt(max)) return { ok: false, message: `must be at most ${max}` };
	return { ok: true, value };
}

/** Top-level keys whose JSON numbers are kept as their exact source text. */
const EXACT_KEYS = new Set(["amount", "block_number"]);

/**
 * Whether `value` is a number whose float may differ from its source text. Amounts always may
 * (decimals); a whole number within 2^53 is exact (watchers send `block_number` as one, so the
 * common case keeps the single fast parse).
 */
function mayBeInexact(key: string, value: unknown): boolean {
	return typeof value === "number" && (key === "amount" || !Number.isSafeInteger(value));
}

type ReviverContext = { source?: string };

/**
 * `JSON.parse` that keeps the exact source text of the top-level numbers named in
 * {@link EXACT_KEYS} whose float may be inexact: they come back as {@link ExactNumber}s. Bodies
 * without such numbers (the usual case: amounts are strings, block numbers small) take the plain,
 * faster parse only. Throws `SyntaxError` like `JSON.parse`.
 */
export function parseJsonExact(text: string): unknown {
	const value: unknown = JSON.parse(text);
	if (
		!isPlainObject(value) ||
		!(mayBeInexact("amount", value.amount) || mayBeInexact("block_number", value.block_number))
	) {
		return value;
	}
	// Which holder a number sits in is only known by identity: remember each object's number texts.
	const sources = new WeakMap<object, Map<string, string | undefined>>();
	const root: unknown = JSON.parse(text, function (
		this: object,
		key: string,
		raw: unknown,
		context?: ReviverContext,
	) {
		if (typeof raw === "number" && EXACT_KEYS.has(key)) {
			const texts = sources.get(this) ?? new Map<string, string | undefined>();
			texts.set(key, context?.source);
			sources.set(this, texts);
		}
		return raw;
	} as (this: unknown, key: string, value: unknown) => unknown);
	if (!isPlainObject(root)) return root;
	const texts = sources.get(root);
	for (const key of EXACT_KEYS) {
		if (mayBeInexact(key, root[key])) root[key] = new ExactNumber(texts?.get(key));
	}
	return root;
}

/** A JSON number's exact source text (`undefined` if the runtime could not tell it). */
export class ExactNumber {
	constructor(readonly source: string | undefined) {}
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
