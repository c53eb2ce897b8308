/**
 * One pass over a JSON text that `JSON.parse` has already accepted, for what `JSON.parse` does
 * not say:
 * - **a key given twice.** `JSON.parse` keeps the last of duplicate keys silently, other parsers
 *   keep the first or refuse: a signed body whose keys repeat could be read two ways by two
 *   systems, so intake refuses it (RFC 8259 §4 says names SHOULD be unique). Keys are compared
 *   decoded, so `"a"` and `"\u0061"` are the same key.
 * - **whether a number may not survive as a double**: one with a fraction, an exponent or more
 *   than 15 digits. Only then does the exact parse (../decimal.ts, a reviver that costs some
 *   40 times a plain `JSON.parse`) need to run; bodies of short whole numbers skip it.
 *
 * The text is valid JSON, so a key is a string that a `:` follows, and a number is what starts
 * with `-` or a digit outside a string.
 *
 * @module
 */

/** Where a key repeats: the dotted path of its object ("" for the top level) and the key. */
export interface DuplicateKey {
	path: string;
	key: string;
}

type Frame = { keys: Set<string>; path: string } | { index: number; path: string };

function childPath(parent: Frame | undefined, lastKey: string): string {
	if (!parent) return "";
	if (!("keys" in parent)) return `${parent.path}[${parent.index}]`;
	return parent.path ? `${parent.path}.${lastKey}` : lastKey;
}

/** Index just past the closing quote of the string that opens at `start`. */
function stringEnd(text: string, start: number): number {
	let i = start + 1;
	for (;;) {
		const quote = text.indexOf('"', i);
		// Count the backslashes before the quote: an odd number escapes it.
		let backslashes = 0;
		for (let j = quote - 1; text.charCodeAt(j) === 92; j--) backslashes++;
		if (backslashes % 2 === 0) return quote + 1;
		i = quote + 1;
	}
}

function nextNonSpace(text: string, from: number): string {
	for (let i = from; i < text.length; i++) {
		const ch = text[i]!;
		if (ch !== " " && ch !== "\n" && ch !== "\r" && ch !== "\t") return ch;
	}
	return "";
}

interface JsonScan {
	/** The first key given twice, or null. */
	duplicate: DuplicateKey | null;
	/** Whether some number has a fraction, an exponent or more than 15 digits. */
	longNumbers: boolean;
}

/** The longest run of digits every double holds exactly (2^53 has 16 digits). */
const SAFE_DIGITS = 15;

function isNumberChar(code: number): boolean {
	// 0-9 . e E + -
	return (
		(code >= 48 && code <= 57) || code === 46 || code === 101 || code === 69 || code === 43 || code === 45
	);
}

/**
 * Scans a JSON text already accepted by `JSON.parse`.
 *
 * @example
 * ```ts
 * scanJson('{"amount":"1","amount":"100"}').duplicate; // { path: "", key: "amount" }
 * scanJson('{"a":{"b":1},"c":[{"b":2.5}]}');          // { duplicate: null, longNumbers: true }
 * ```
 */
export function scanJson(text: string): JsonScan {
	const stack: Frame[] = [];
	let lastKey = "";
	let longNumbers = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text[i]!;
		const code = text.charCodeAt(i);
		if (code === 45 || (code >= 48 && code <= 57)) {
			let end = i + 1;
			while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
			if (!longNumbers) {
				const token = text.slice(i, end);
				longNumbers = /[.eE]/.test(token) || token.replace("-", "").length > SAFE_DIGITS;
			}
			i = end - 1;
			continue;
		}
		if (ch === '"') {
			const end = stringEnd(text, i);
			const top = stack[stack.length - 1];
			if (top && "keys" in top && nextNonSpace(text, end) === ":") {
				const raw = text.slice(i + 1, end - 1);
				const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end)) as string) : raw;
				if (top.keys.has(key)) return { duplicate: { path: top.path, key }, longNumbers };
				top.keys.add(key);
				lastKey = key;
			}
			i = end - 1;
		} else if (ch === "{") {
			stack.push({ keys: new Set(), path: childPath(stack[stack.length - 1], lastKey) });
		} else if (ch === "[") {
			stack.push({ index: 0, path: childPath(stack[stack.length - 1], lastKey) });
		} else if (ch === "}" || ch === "]") {
			stack.pop();
		} else if (ch === ",") {
			const top = stack[stack.length - 1];
			if (top && "index" in top) top.index++;
		}
	}
	return { duplicate: null, longNumbers };
}
