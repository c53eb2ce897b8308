/**
 * Admin second factor: RFC 6238 TOTP (SHA-1, 6 digits, 30 s steps, the authenticator apps'
 * defaults) through the `otpauth` library, and the test bypass that may skip it outside
 * production.
 *
 * @module
 */
import { Secret, TOTP } from "otpauth/slim";

/** Issuer shown in authenticator apps. */
const TOTP_ISSUER = "CricAlgo";
const PERIOD_SECONDS = 30;
/** One step either side absorbs clock drift between the phone and the edge. */
const WINDOW = 1;

function totpFor(secretBase32: string, label = "admin"): TOTP {
	return new TOTP({
		issuer: TOTP_ISSUER,
		label,
		algorithm: "SHA1",
		digits: 6,
		period: PERIOD_SECONDS,
		secret: Secret.fromBase32(secretBase32),
	});
}

/**
 * Checks a 6-digit code against a base32 secret. Returns the time step (counter) the code
 * belongs to, so the caller can refuse a second use of the same code (RFC 6238 §5.2), or null
 * when the code is wrong or the secret unusable.
 */
export function matchTotp(secretBase32: string, code: string, now = Date.now()): number | null {
	if (!/^\d{6}$/.test(code)) return null;
	let totp: TOTP;
	try {
		totp = totpFor(secretBase32);
	} catch {
		console.error("an admin's TOTP secret is not valid base32; that admin cannot log in until it is reset");
		return null;
	}
	const delta = totp.validate({ token: code, timestamp: now, window: WINDOW });
	return delta === null ? null : totp.counter({ timestamp: now }) + delta;
}

/** A new random secret (160 bits, as RFC 4226 recommends) and its provisioning URI. */
export function newTotpSecret(label: string): { secret: string; uri: string } {
	const secret = new Secret({ size: 20 });
	const totp = totpFor(secret.base32, label);
	return { secret: secret.base32, uri: totp.toString() };
}

/**
 * The environments that are tests: the only ones where `TOTP_TEST_BYPASS` is honoured. Named
 * exactly; "local" (a developer's stack), "staging", "production" and anything unnamed are not.
 */
const TEST_ENVIRONMENTS: readonly string[] = ["test"];

/**
 * Whether an admin may log in without a TOTP code: only when `TOTP_TEST_BYPASS` is "true" AND
 * `ENVIRONMENT` is exactly one of {@link TEST_ENVIRONMENTS}. Elsewhere the flag is ignored and
 * the misconfiguration is logged on every login attempt, so it shows up in the Worker's logs.
 */
export function totpBypassEnabled(env: { ENVIRONMENT?: string; TOTP_TEST_BYPASS?: string }): boolean {
	if (env.TOTP_TEST_BYPASS !== "true") return false;
	if (TEST_ENVIRONMENTS.includes(env.ENVIRONMENT ?? "")) return true;
	console.error(
		`misconfiguration: TOTP_TEST_BYPASS is 'true' where ENVIRONMENT is ${JSON.stringify(env.ENVIRONMENT ?? "")}; it is honoured only in ${TEST_ENVIRONMENTS.join(", ")}, so it is ignored and admins must give a TOTP code. Set it to 'false'.`,
	);
	return false;
}
