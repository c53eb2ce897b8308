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
 * the float 10.5, and `12345678901234567890` keeps all its digits; a number anywhere whose double
 * is not what was written is marked, so that it is never stored changed. A token transfer's base
 * units become an exact decimal with {@link fromBaseUnits}.
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
 * A token amount in base units (the integer a transfer log carries) as an exact decimal string
 * of the token, given its decimals: `fromBaseUnits(20_500_000n, 6)` is "20.5". Never rounds: the
 * result can have up to `decimals` decimals, and {@link canonicalAmount} says whether the ledger
 * holds it.
 *
 * @example
 * ```ts
 * fromBaseUnits(1_000_000_000_000_000_001n, 18); // "1.000000000000000001"
 * ```
 */
export function fromBaseUnits(raw: bigint, decimals: number): string {
	const digits = raw.toString().padStart(decimals + 1, "0");
	const integer = digits.slice(0, digits.length - decimals);
	const fraction = digits.slice(digits.length - decimals).replace(/0+$/, "");
	return fraction ? `${integer}.${fraction}` : integer;
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

/** Top-level keys whose JSON numbers always keep their exact source text (the schema reads it). */
const EXACT_KEYS = new Set(["amount", "block_number"]);

const NUMBER = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * A number's value as `sign digits e exponent` with no leading or trailing zeros, so that two
 * spellings of one value ("1.50", "15e-1") compare equal. Null for what is not a number
 * ("Infinity").
 */
function decimalValue(text: string): string | null {
	const match = NUMBER.exec(text);
	if (!match) return null;
	const [, sign, integer, fraction = "", exponent = "0"] = match;
	let digits = `${integer}${fraction}`.replace(/^0+/, "");
	if (!digits) return "0";
	let scale = BigInt(exponent) - BigInt(fraction.length);
	const trimmed = digits.replace(/0+$/, "");
	scale += BigInt(digits.length - trimmed.length);
	digits = trimmed;
	return `${sign}${digits}e${scale}`;
}

/**
 * Whether the double `value` is exactly the number its source text `source` writes. False for
 * `1e400` (Infinity), `12345678901234567890` (…7000) and `0.10000000000000000555` (0.1): the
 * ledger would store the double's text, not the sender's.
 */
function holdsExactly(source: string, value: number): boolean {
	return decimalValue(source) === decimalValue(String(value));
}

type ReviverContext = { source?: string };

/**
 * A parsed JSON text whose numbers never lose anything silently. A number whose double is not
 * exactly its source text (see {@link holdsExactly}), wherever it is, comes back as an
 * {@link ExactNumber} carrying that text; so do the top-level numbers named in
 * {@link EXACT_KEYS} (`amount` and `block_number`), whose source text the schema converts
 * exactly. The source text is the reviver's `context.source` ("JSON.parse source text access",
 * V8 in workerd); that parse runs only when `longNumbers` says some number may need it (see
 * webhook/json-scan.ts), otherwise `plain`, the text's plain `JSON.parse`, is used as it is.
 */
export function exactJson(text: string, plain: unknown, longNumbers: boolean): unknown {
	// JSON.parse walks a reviver recursively: past this depth (a body refused anyway, since only
	// metadata nests, and only a few levels) keep the plain parse rather than run out of stack.
	if (!longNumbers || nestsDeeperThan(plain, MAX_REVIVED_DEPTH)) {
		if (isPlainObject(plain)) {
			for (const key of EXACT_KEYS) {
				const value = plain[key];
				// A short whole number is exactly its own text (JSON has no leading zeros).
				if (typeof value === "number") {
					plain[key] = new ExactNumber(longNumbers ? undefined : Object.is(value, -0) ? "-0" : String(value));
				}
			}
		}
		return plain;
	}
	// Which holder a number sits in is only known by identity: remember each object's number texts.
	const sources = new WeakMap<object, Map<string, string | undefined>>();
	const root: unknown = JSON.parse(text, function (
		this: object,
		key: string,
		raw: unknown,
		context?: ReviverContext,
	) {
		if (typeof raw !== "number") return raw;
		const source = context?.source;
		if (EXACT_KEYS.has(key)) {
			const texts = sources.get(this) ?? new Map<string, string | undefined>();
			texts.set(key, source);
			sources.set(this, texts);
		}
		return source === undefined || holdsExactly(source, raw) ? raw : new ExactNumber(source);
	} as (this: unknown, key: string, value: unknown) => unknown);
	if (!isPlainObject(root)) return root;
	const texts = sources.get(root);
	for (const key of EXACT_KEYS) {
		if (typeof root[key] === "number") root[key] = new ExactNumber(texts?.get(key));
	}
	return root;
}

/** Deepest nesting {@link exactJson} revives. */
const MAX_REVIVED_DEPTH = 64;

/** Whether `value` nests objects or arrays more than `limit` levels deep; stops looking past it. */
function nestsDeeperThan(value: unknown, limit: number): boolean {
	if (typeof value !== "object" || value === null) return false;
	if (limit === 0) return true;
	for (const child of Object.values(value)) if (nestsDeeperThan(child, limit - 1)) return true;
	return false;
}

/** A JSON number's exact source text (`undefined` if the runtime could not tell it). */
export class ExactNumber {
	constructor(readonly source: string | undefined) {}
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
	return typeof value === "object" && value !== null && !Array.isArray(value);
}
