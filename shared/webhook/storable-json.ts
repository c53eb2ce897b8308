/**
 * What the ledger can store exactly, checked at the edge, so that a webhook Postgres would refuse
 * is answered 422 naming the field instead of 202 and a dead letter later.
 *
 * The class, as Postgres 15 and the path to it behave (each checked against a real server):
 * - **U+0000** in a string or a key: `text` refuses it ("invalid byte sequence for encoding
 *   UTF8: 0x00") and `jsonb` refuses `\u0000` ("unsupported Unicode escape sequence").
 * - **A lone surrogate** (a UTF-16 half, U+D800–U+DFFF, without its pair): not a Unicode
 *   character, so it has no UTF-8 form. `jsonb` refuses `\ud800` ("invalid input syntax for type
 *   json"); as `text` the driver's UTF-8 encoder would silently turn it into U+FFFD.
 * - **A number JavaScript cannot hold exactly**: Postgres' `numeric` stores any JSON number
 *   exactly, but the body is parsed into doubles on its way there, so `1e400` would be stored as
 *   null and `12345678901234567890` as 12345678901234567000. ../decimal.ts marks such numbers as
 *   {@link ExactNumber}; in free-form data (metadata) they are refused, to be sent as strings.
 * Everything else (other control characters, noncharacters such as U+FFFF, deep but bounded
 * nesting) Postgres stores as given.
 *
 * @module
 */
import { ExactNumber, isPlainObject } from "../decimal";

/** A value the ledger could not store as received, and where it is. */
interface Unstorable {
	/** Dotted path from the value checked, e.g. "note" or "items[2].name" ("" for the value itself). */
	path: string;
	message: string;
}

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function textProblem(text: string): string | null {
	if (text.includes("\u0000")) return "contains U+0000 (NUL), which the ledger cannot store";
	const lone = LONE_SURROGATE.exec(text);
	if (lone) {
		const unit = lone[0].charCodeAt(0).toString(16).toUpperCase();
		return `contains a lone surrogate (\\u${unit}), which is not a character and cannot be stored`;
	}
	return null;
}

const atKey = (path: string, key: string) => (path ? `${path}.${key}` : key);
const atIndex = (path: string, index: number) => `${path}[${index}]`;

/**
 * The first part of `value` (a parsed JSON value) that the ledger could not store exactly, or null.
 *
 * @example
 * ```ts
 * findUnstorable({ note: "a\u0000b" }); // { path: "note", message: "contains U+0000 (NUL), ..." }
 * ```
 */
export function findUnstorable(value: unknown, path = ""): Unstorable | null {
	if (typeof value === "string") {
		const problem = textProblem(value);
		return problem ? { path, message: problem } : null;
	}
	if (value instanceof ExactNumber) {
		return {
			path,
			message: `is a number that cannot be stored exactly (${value.source ?? "out of range"}); send it as a string`,
		};
	}
	if (Array.isArray(value)) {
		for (let i = 0; i < value.length; i++) {
			const found = findUnstorable(value[i], atIndex(path, i));
			if (found) return found;
		}
		return null;
	}
	if (isPlainObject(value)) {
		for (const [key, child] of Object.entries(value)) {
			const keyProblem = textProblem(key);
			if (keyProblem)
				return {
					path: atKey(path, JSON.stringify(key).slice(1, -1)),
					message: `has a key that ${keyProblem}`,
				};
			const found = findUnstorable(child, atKey(path, key));
			if (found) return found;
		}
	}
	return null;
}
