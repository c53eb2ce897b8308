/**
 * The console's session: an admin signs in with password and TOTP through the login API
 * (admin-api.ts), and the browser keeps the session's refresh token in one cookie. The cookie
 * is `HttpOnly` and `SameSite=Strict`; over https it is `Secure` and named with the `__Host-`
 * prefix (no Domain, Path=/). Over plain http the console answers only on a loopback host
 * (`npm start`, tests in a browser), where the cookie cannot be `Secure` and loses the prefix;
 * anywhere else plain http is refused, so the cookie never crosses a network in clear.
 *
 * The database keeps only the token's hash (`refresh_tokens`), so every request checks that
 * the session is live (not signed out, not expired, its admin not deleted): signing out ends it
 * at once. A refresh token of an admin lives 8 hours, and so does a session.
 *
 * Every form that changes something carries a CSRF token bound to the session: an HMAC, under
 * the Worker's `JWT_SECRET`, of the token's hash. A page of another site can neither read it nor
 * make it; a post without it, or with another session's, is refused. The sign-in form carries
 * one bound to a random cookie of its own (signed double submit), so nobody can sign a browser
 * into another account either.
 *
 * @module
 */
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../env";
import { jwtSecret } from "../lib/access-token";
import { database } from "../lib/database";
import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_TTL_SECONDS } from "../lib/refresh-token";

export type ConsoleEnv = {
	Bindings: AppEnv["Bindings"];
	Variables: AppEnv["Variables"] & { admin: ConsoleAdmin };
};

/** The signed-in admin, as pages and actions see them. */
export interface ConsoleAdmin {
	id: string;
	username: string;
	/** The CSRF token every form of this session carries. */
	csrf: string;
	tokenHash: string;
}

type AnyContext = Context<AppEnv> | Context<ConsoleEnv>;

/** Why the console will not serve a request: plain http to a host that is not this machine. */
export function insecureTransport(c: AnyContext): boolean {
	const url = new URL(c.req.url);
	if (url.protocol === "https:") return false;
	return !["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
}

function secure(c: AnyContext): boolean {
	return new URL(c.req.url).protocol === "https:";
}

/** The session cookie's name: with the `__Host-` prefix where it can be Secure. */
function sessionCookieName(c: AnyContext): string {
	return secure(c) ? "__Host-cricalgo-console" : "cricalgo-console";
}

function signInCookieName(c: AnyContext): string {
	return secure(c) ? "__Host-cricalgo-console-sign-in" : "cricalgo-console-sign-in";
}

function cookieOptions(c: AnyContext, maxAge: number) {
	return { path: "/", httpOnly: true, secure: secure(c), sameSite: "Strict" as const, maxAge };
}

async function hmac(secret: string, text: string): Promise<string> {
	const key = await crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(secret),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
	return btoa(String.fromCharCode(...mac))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
}

/** Constant-time comparison of two tokens. */
function same(a: string, b: string): boolean {
	const x = new TextEncoder().encode(a);
	const y = new TextEncoder().encode(b);
	if (x.length !== y.length) return false;
	let diff = 0;
	for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
	return diff === 0;
}

/** The CSRF token of a session. */
function sessionCsrf(env: AppEnv["Bindings"], tokenHash: string): Promise<string> {
	return hmac(jwtSecret(env), `console-csrf\n${tokenHash}`);
}

/** Whether `presented` is the CSRF token of the session `admin`. */
export async function csrfValid(
	env: AppEnv["Bindings"],
	admin: ConsoleAdmin,
	presented: unknown,
): Promise<boolean> {
	return typeof presented === "string" && same(presented, await sessionCsrf(env, admin.tokenHash));
}

/** The sign-in form's CSRF token, with a fresh cookie it is bound to. */
export async function signInCsrf(c: AnyContext): Promise<string> {
	const nonce = (await newRefreshToken()).token;
	setCookie(c, signInCookieName(c), nonce, cookieOptions(c, 3600));
	return hmac(jwtSecret(c.env), `console-sign-in\n${nonce}`);
}

/** Whether a sign-in post carries the token of the form this browser was given. */
export async function signInCsrfValid(c: AnyContext, presented: unknown): Promise<boolean> {
	const nonce = getCookie(c, signInCookieName(c));
	if (!nonce || typeof presented !== "string") return false;
	return same(presented, await hmac(jwtSecret(c.env), `console-sign-in\n${nonce}`));
}

/** Starts a session with the refresh token the login API gave. */
export function startSession(c: AnyContext, refreshToken: string): void {
	deleteCookie(c, signInCookieName(c), { path: "/", secure: secure(c) });
	setCookie(c, sessionCookieName(c), refreshToken, cookieOptions(c, REFRESH_TOKEN_TTL_SECONDS.admin));
}

const LIVE_SESSION = `
SELECT a.id, a.username FROM refresh_tokens t JOIN admins a ON a.id = t.subject
WHERE t.token_hash = $1 AND t.role = 'admin' AND t.revoked_at IS NULL AND t.expires_at > now()`;

/** The admin of the request's session, or null when there is none or it has ended. */
export async function currentAdmin(c: AnyContext): Promise<ConsoleAdmin | null> {
	const token = getCookie(c, sessionCookieName(c));
	if (!token || token.length > 256) return null;
	const tokenHash = await hashRefreshToken(token);
	const [row] = await database(c.env).query<{ id: string; username: string }>(LIVE_SESSION, [tokenHash]);
	if (!row) return null;
	return { id: row.id, username: row.username, tokenHash, csrf: await sessionCsrf(c.env, tokenHash) };
}

// Ends the session's whole family (the token and any it was rotated into) and audits it.
const SIGN_OUT = `
WITH ended AS (
	UPDATE refresh_tokens SET revoked_at = now()
	WHERE revoked_at IS NULL AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $1)
	RETURNING subject
)
INSERT INTO audit_logs (admin_id, action, details)
SELECT DISTINCT subject, 'admin.logout', '{"via":"console"}'::jsonb FROM ended
WHERE EXISTS (SELECT 1 FROM admins WHERE id = subject)`;

/** Ends the session in the database and in the browser. */
export async function endSession(c: Context<ConsoleEnv>): Promise<void> {
	await database(c.env).query(SIGN_OUT, [c.var.admin.tokenHash]);
	deleteCookie(c, sessionCookieName(c), { path: "/", secure: secure(c) });
}
