/**
 * Password hashing with PBKDF2-HMAC-SHA256 through WebCrypto, so the same code runs in workerd
 * (the login route) and in Node (the ops command that creates admins).
 *
 * Stored form, self-describing so the cost can be raised later without a migration:
 * `pbkdf2_sha256$<iterations>$<salt base64>$<hash base64>`. workerd refuses more than 100,000
 * PBKDF2 iterations, so that is the cost used; a 16-byte random salt makes every hash unique.
 *
 * The original CricAlgo platform stored its admins' passwords as bcrypt (passlib's `$2b$12$…`).
 * Those are verified with `bcryptjs` (plain JavaScript, so it runs in workerd; about 0.2 s of
 * CPU at cost 12, within a Worker's CPU limit) and are outdated ({@link isOutdatedHash}): the
 * login route replaces one with the current hash at the first successful login.
 *
 * @module
 */
import { compare as bcryptCompare } from "bcryptjs";

const ALGORITHM = "pbkdf2_sha256";
/** workerd's ceiling for PBKDF2 (it throws above it). */
const PBKDF2_ITERATIONS = 100_000;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
/** Hashes below this cost were never written by us: refuse them rather than accept weak ones. */
const MIN_ITERATIONS = 10_000;

async function derive(
	password: string,
	salt: Uint8Array<ArrayBuffer>,
	iterations: number,
): Promise<Uint8Array> {
	const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
		"deriveBits",
	]);
	const bits = await crypto.subtle.deriveBits(
		{ name: "PBKDF2", hash: "SHA-256", salt, iterations },
		key,
		HASH_BYTES * 8,
	);
	return new Uint8Array(bits);
}

function toBase64(bytes: Uint8Array): string {
	return btoa(String.fromCharCode(...bytes));
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> | null {
	try {
		return Uint8Array.from(atob(text), (ch) => ch.charCodeAt(0));
	} catch {
		return null;
	}
}

/**
 * Compares two byte strings in time that depends only on their length, so a caller cannot learn
 * how many leading bytes of a guess were right. (workerd has `crypto.subtle.timingSafeEqual`,
 * Node does not have it on `subtle`; this module must run in both.)
 */
function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
	if (a.length !== b.length) return false;
	let diff = 0;
	for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
	return diff === 0;
}

/**
 * Hashes a password for storage.
 *
 * @example
 * ```ts
 * const stored = await hashPassword("correct horse battery staple");
 * // "pbkdf2_sha256$100000$...$..."
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
	const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
	const hash = await derive(password, salt, PBKDF2_ITERATIONS);
	return `${ALGORITHM}$${PBKDF2_ITERATIONS}$${toBase64(salt)}$${toBase64(hash)}`;
}

/** bcrypt in the modular crypt format passlib and OpenBSD write: `$2a$`, `$2b$` or `$2y$`, cost, 53 characters. */
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

/** Whether a stored hash is of a kind this system no longer writes (and should replace at the next login). */
export function isOutdatedHash(stored: string | null | undefined): boolean {
	return BCRYPT.test(stored ?? "");
}

/**
 * Checks a password against a stored hash (ours, or the original's bcrypt). A missing or
 * malformed hash never matches, but the key derivation runs anyway, so the answer takes as long
 * for an unknown user as for a wrong password and response times do not tell which usernames
 * exist.
 */
export async function verifyPassword(password: string, stored: string | null | undefined): Promise<boolean> {
	if (stored && BCRYPT.test(stored)) return bcryptCompare(password, stored);
	const parts = (stored ?? "").split("$");
	const iterations = Number(parts[1]);
	const salt = fromBase64(parts[2] ?? "");
	const expected = fromBase64(parts[3] ?? "");
	const wellFormed =
		parts.length === 4 &&
		parts[0] === ALGORITHM &&
		Number.isInteger(iterations) &&
		iterations >= MIN_ITERATIONS &&
		iterations <= PBKDF2_ITERATIONS &&
		salt !== null &&
		salt.length >= SALT_BYTES &&
		expected !== null &&
		expected.length === HASH_BYTES;
	const actual = await derive(
		password,
		wellFormed ? salt : new Uint8Array(SALT_BYTES),
		wellFormed ? iterations : PBKDF2_ITERATIONS,
	);
	return wellFormed && constantTimeEqual(actual, expected);
}
