/**
 * Finds an object key given twice in a JSON text. `JSON.parse` keeps the last of duplicate keys
 * silently, other parsers keep the first or refuse: a signed body whose keys repeat could be read
 * two ways by two systems, so intake refuses it (RFC 8259 §4 says names SHOULD be unique).
 *
 * Runs on text that `JSON.parse` has already accepted, so it only has to tell keys from string
 * values (a key is the string a `:` follows) and keep one set of names per open object. Keys are
 * compared decoded, so `"a"` and `"\u0061"` are the same key.
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

/**
 * The first repeated key of a JSON text already accepted by `JSON.parse`, or null.
 *
 * @example
 * ```ts
 * findDuplicateKey('{"amount":"1","amount":"100"}'); // { path: "", key: "amount" }
 * findDuplicateKey('{"a":{"b":1},"c":[{"b":2}]}');   // null
 * ```
 */
export function findDuplicateKey(text: string): DuplicateKey | null {
	const stack: Frame[] = [];
	let lastKey = "";
	for (let i = 0; i < text.length; i++) {
		const ch = text[i];
		if (ch === '"') {
			const end = stringEnd(text, i);
			const top = stack[stack.length - 1];
			if (top && "keys" in top && nextNonSpace(text, end) === ":") {
				const raw = text.slice(i + 1, end - 1);
				const key = raw.includes("\\") ? (JSON.parse(text.slice(i, end)) as string) : raw;
				if (top.keys.has(key)) return { path: top.path, key };
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
	return null;
}
