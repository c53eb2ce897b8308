/**
 * `POST /api/v1/login` (also `/api/v1/auth/login`): `{username, password}` for players,
 * `{username, password, totp}` for admins (the original's `totp_code` is accepted too).
 * Answers `{access_token, refresh_token, token_type: "Bearer", expires_in, role}`.
 *
 * Where the two namespaces meet: users and admins are separate tables and may share a
 * username. A request that carries a TOTP code is an admin login and is checked against
 * `admins` only; one without is a player login. The one exception is the test bypass
 * (`TOTP_TEST_BYPASS`, only in test environments): then a code-less login is tried as an admin
 * first and falls back to the player, so the bypass can never give a player the admin role.
 *
 * Every failure answers alike: an unknown name, a wrong password, a wrong, missing-secret or
 * reused TOTP code all get the same 401 and message, in the same number of database round
 * trips, so a guesser cannot learn that a password was right. Each failure counts against the
 * account name (lib/login-throttle.ts); a locked name is refused before any check. Failed
 * second factors go to the audit log with their reason, where operators look.
 *
 * A TOTP code is accepted once (RFC 6238 §5.2): `admins.last_login` records the time of the
 * last login, and a code from that time step or an earlier one is refused, atomically, in the
 * same statement that records the login, its audit row and the refresh token. The cost: an admin
 * logs in at most once per 30-second step. An admin password still in the original platform's
 * bcrypt form is replaced by the current hash in that same statement.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/request-input";
import { hashPassword, isOutdatedHash, verifyPassword } from "../../../../shared/password";
import { matchTotp, totpBypassEnabled } from "../../../../shared/totp";
import type { AppEnv } from "../../env";
import { jwtSecret, tokenResponse } from "../../lib/access-token";
import { type AccountsDatabase, database } from "../../lib/database";
import { accountLocked, LOCK_REMAINING, type LoginScope, recordFailure } from "../../lib/login-throttle";
import { newRefreshToken, REFRESH_TOKEN_TTL_SECONDS } from "../../lib/refresh-token";

export const loginSchema = z.pipe(
	z.object({
		username: z.string().check(z.minLength(1), z.maxLength(64)),
		password: z.string().check(z.minLength(1), z.maxLength(256)),
		totp: z.optional(z.string().check(z.maxLength(16))),
		totp_code: z.optional(z.string().check(z.maxLength(16))),
	}),
	z.transform(({ totp, totp_code, ...rest }) => ({ ...rest, totp: totp ?? totp_code })),
);

/** The one answer to every failed login. */
const invalidCredentials = () =>
	new ApiError(
		"unauthorized",
		"invalid username, password or TOTP code (admins send their code as totp; a code is accepted once)",
	);

/** The admin and, in the same round trip, any lock on the name. */
const ADMIN_ACCOUNT = `
SELECT a.id, a.password_hash, a.totp_secret, (${LOCK_REMAINING.replace("$1", "'admin'").replace("$2", "$1")}) AS locked_for
FROM (SELECT 1) one LEFT JOIN admins a ON a.username = $1`;

const USER_ACCOUNT = `
SELECT u.id, u.password_hash, u.status::text AS status, (${LOCK_REMAINING.replace("$1", "'user'").replace("$2", "$1")}) AS locked_for
FROM (SELECT 1) one LEFT JOIN users u ON u.username = $1`;

const ADMIN_LOGIN = `
WITH upd AS (
	UPDATE admins SET last_login = to_timestamp($6::double precision / 1000),
		password_hash = COALESCE($7::text, password_hash)
	WHERE id = $1
		AND ($2::bigint IS NULL OR last_login IS NULL OR floor(extract(epoch FROM last_login) / 30) < $2::bigint)
	RETURNING id, username
), log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT id, 'admin.login', $3::jsonb FROM upd
), tok AS (
	INSERT INTO refresh_tokens (subject, role, token_hash, expires_at)
	SELECT id, 'admin', $4, now() + make_interval(secs => $5::int) FROM upd
), cleared AS (
	DELETE FROM login_throttle WHERE scope = 'admin' AND username IN (SELECT username FROM upd)
)
SELECT id FROM upd`;

const USER_LOGIN = `
WITH tok AS (
	INSERT INTO refresh_tokens (subject, role, token_hash, expires_at)
	SELECT id, 'user', $2, now() + make_interval(secs => $3::int) FROM users
	WHERE id = $1 AND status <> 'DISABLED'
	RETURNING subject
), cleared AS (
	DELETE FROM login_throttle WHERE scope = 'user' AND username = $4 AND EXISTS (SELECT 1 FROM tok)
)
SELECT subject FROM tok`;

const AUDIT_FAILURE =
	"INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'admin.login_failed', $2::jsonb)";

/**
 * Counts a failed login against the name (and, for an admin whose password was right, audits
 * why the second factor failed, in the same round trip), then refuses.
 */
async function fail(
	c: Context<AppEnv>,
	db: AccountsDatabase,
	scope: LoginScope,
	username: string,
	audit?: { adminId: string; reason: string },
): Promise<never> {
	const also = audit
		? [
				{
					text: AUDIT_FAILURE,
					params: [
						audit.adminId,
						JSON.stringify({ reason: audit.reason, ip: c.req.header("cf-connecting-ip") ?? "unknown" }),
					],
				},
			]
		: [];
	throw await recordFailure(db, scope, username, invalidCredentials(), also);
}

async function adminLogin(
	c: Context<AppEnv>,
	db: AccountsDatabase,
	admin: { id: string; password_hash: string; totp_secret: string | null },
	username: string,
	password: string,
	totp: string | undefined,
) {
	// One clock for matching the code and recording its use: the Worker's, not the database's.
	const now = Date.now();
	let counter: number | null = null;
	if (totp !== undefined) {
		counter = admin.totp_secret ? matchTotp(admin.totp_secret, totp, now) : null;
		if (counter === null) await fail(c, db, "admin", username, { adminId: admin.id, reason: "invalid_totp" });
	}
	const refresh = await newRefreshToken();
	const details = {
		method: counter === null ? "totp_test_bypass" : "totp",
		ip: c.req.header("cf-connecting-ip") ?? "unknown",
		environment: c.env.ENVIRONMENT,
	};
	const upgraded = isOutdatedHash(admin.password_hash) ? await hashPassword(password) : null;
	const rows = await db.query(ADMIN_LOGIN, [
		admin.id,
		counter,
		JSON.stringify(details),
		refresh.hash,
		REFRESH_TOKEN_TTL_SECONDS.admin,
		now,
		upgraded,
	]);
	if (!rows.length) await fail(c, db, "admin", username, { adminId: admin.id, reason: "totp_reused" });
	return tokenResponse(c, admin.id, "admin", refresh.token);
}

export const login = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, loginSchema);
	// Refuse before any work when tokens cannot be signed.
	jwtSecret(c.env);
	const db = database(c.env);
	const bypass = input.totp === undefined && totpBypassEnabled(c.env);

	if (input.totp !== undefined || bypass) {
		const [admin] = await db.query<{
			id: string | null;
			password_hash: string | null;
			totp_secret: string | null;
			locked_for: number;
		}>(ADMIN_ACCOUNT, [input.username]);
		if (admin && admin.locked_for > 0) throw accountLocked(admin.locked_for);
		// Runs the key derivation even for an unknown admin, so timing does not tell.
		if (await verifyPassword(input.password, admin?.password_hash)) {
			return adminLogin(
				c,
				db,
				admin as { id: string; password_hash: string; totp_secret: string | null },
				input.username,
				input.password,
				input.totp,
			);
		}
		if (!bypass) await fail(c, db, "admin", input.username);
	}

	const [user] = await db.query<{
		id: string | null;
		password_hash: string | null;
		status: string | null;
		locked_for: number;
	}>(USER_ACCOUNT, [input.username]);
	if (user && user.locked_for > 0) throw accountLocked(user.locked_for);
	if (!(await verifyPassword(input.password, user?.password_hash))) await fail(c, db, "user", input.username);
	if (user!.status === "DISABLED") throw new ApiError("forbidden", "this account is disabled");
	const refresh = await newRefreshToken();
	const rows = await db.query(USER_LOGIN, [
		user!.id,
		refresh.hash,
		REFRESH_TOKEN_TTL_SECONDS.user,
		input.username,
	]);
	if (!rows.length) throw new ApiError("forbidden", "this account is disabled");
	return tokenResponse(c, user!.id!, "user", refresh.token);
});
