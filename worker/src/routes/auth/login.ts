/**
 * `POST /api/v1/login` (also `/api/v1/auth/login`): `{username, password}` for players,
 * `{username, password, totp}` for admins (the original's `totp_code` is accepted too).
 * Answers `{access_token, refresh_token, token_type: "Bearer", expires_in, role}`.
 *
 * Where the two namespaces meet: users and admins are separate tables and may share a
 * username. A request that carries a TOTP code is an admin login and is checked against
 * `admins` only; one without is a player login. The one exception is the test bypass
 * (`TOTP_TEST_BYPASS`, never in production): then a code-less login is tried as an admin
 * first and falls back to the player, so the bypass can never give a player the admin role.
 *
 * A TOTP code is accepted once (RFC 6238 §5.2): `admins.last_login` records the time of the
 * last login, and a code from that time step or an earlier one is refused, atomically, in the
 * same statement that records the login, its audit row and the refresh token. The cost: an admin
 * logs in at most once per 30-second step.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors";
import { jwtSecret, tokenResponse } from "../../lib/access-token";
import { type AccountsDatabase, database } from "../../lib/database";
import { verifyPassword } from "../../lib/password";
import { newRefreshToken, REFRESH_TOKEN_TTL_SECONDS } from "../../lib/refresh-token";
import { jsonBody } from "../../lib/request-input";
import { matchTotp, totpBypassEnabled } from "../../lib/totp";

const loginSchema = z
	.object({
		username: z.string().min(1).max(64),
		password: z.string().min(1).max(256),
		totp: z.string().max(16).optional(),
		totp_code: z.string().max(16).optional(),
	})
	.transform(({ totp, totp_code, ...rest }) => ({ ...rest, totp: totp ?? totp_code }));

const invalidCredentials = (hint = "") =>
	new ApiError(401, "unauthorized", `invalid username or password${hint}`);

const ADMIN_LOGIN = `
WITH upd AS (
	UPDATE admins SET last_login = to_timestamp($6::double precision / 1000)
	WHERE id = $1
		AND ($2::bigint IS NULL OR last_login IS NULL OR floor(extract(epoch FROM last_login) / 30) < $2::bigint)
	RETURNING id
), log AS (
	INSERT INTO audit_logs (admin_id, action, details)
	SELECT id, 'admin.login', $3::jsonb FROM upd
), tok AS (
	INSERT INTO refresh_tokens (subject, role, token_hash, expires_at)
	SELECT id, 'admin', $4, now() + make_interval(secs => $5::int) FROM upd
)
SELECT id FROM upd`;

const USER_LOGIN = `
INSERT INTO refresh_tokens (subject, role, token_hash, expires_at)
SELECT id, 'user', $2, now() + make_interval(secs => $3::int) FROM users
WHERE id = $1 AND status <> 'DISABLED'
RETURNING subject`;

/**
 * A failed second factor after a correct password means the password is known to someone: it
 * goes to the audit log, where operators look.
 */
async function auditFailure(c: Context<AppEnv>, db: AccountsDatabase, adminId: string, reason: string) {
	const details = { reason, ip: c.req.header("cf-connecting-ip") ?? "unknown" };
	await db.query(
		"INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'admin.login_failed', $2::jsonb)",
		[adminId, JSON.stringify(details)],
	);
}

async function adminLogin(
	c: Context<AppEnv>,
	db: AccountsDatabase,
	admin: { id: string; totp_secret: string | null },
	totp: string | undefined,
) {
	// One clock for matching the code and recording its use: the Worker's, not the database's.
	const now = Date.now();
	let counter: number | null = null;
	if (totp !== undefined) {
		counter = admin.totp_secret ? matchTotp(admin.totp_secret, totp, now) : null;
		if (counter === null) {
			await auditFailure(c, db, admin.id, "invalid_totp");
			throw new ApiError(401, "unauthorized", "invalid TOTP code", { totp_required: true });
		}
	}
	const refresh = await newRefreshToken();
	const details = {
		method: counter === null ? "totp_test_bypass" : "totp",
		ip: c.req.header("cf-connecting-ip") ?? "unknown",
		environment: c.env.ENVIRONMENT,
	};
	const rows = await db.query(ADMIN_LOGIN, [
		admin.id,
		counter,
		JSON.stringify(details),
		refresh.hash,
		REFRESH_TOKEN_TTL_SECONDS.admin,
		now,
	]);
	if (!rows.length) {
		await auditFailure(c, db, admin.id, "totp_reused");
		throw new ApiError(401, "unauthorized", "this TOTP code was already used; wait for the next one", {
			totp_required: true,
		});
	}
	return tokenResponse(c, admin.id, "admin", refresh.token);
}

export const login = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, loginSchema);
	// Refuse before any work when tokens cannot be signed.
	jwtSecret(c.env);
	const db = database(c.env);
	const bypass = input.totp === undefined && totpBypassEnabled(c.env);

	if (input.totp !== undefined || bypass) {
		const [admin] = await db.query<{ id: string; password_hash: string; totp_secret: string | null }>(
			"SELECT id, password_hash, totp_secret FROM admins WHERE username = $1",
			[input.username],
		);
		// Runs the key derivation even for an unknown admin, so timing does not tell.
		if (await verifyPassword(input.password, admin?.password_hash)) {
			return adminLogin(c, db, admin!, input.totp);
		}
		if (!bypass) throw invalidCredentials();
	}

	const [user] = await db.query<{ id: string; password_hash: string | null; status: string }>(
		"SELECT id, password_hash, status::text AS status FROM users WHERE username = $1",
		[input.username],
	);
	if (!(await verifyPassword(input.password, user?.password_hash))) {
		throw invalidCredentials(" (admins also send their TOTP code as totp)");
	}
	if (user!.status === "DISABLED") throw new ApiError(403, "forbidden", "this account is disabled");
	const refresh = await newRefreshToken();
	const rows = await db.query(USER_LOGIN, [user!.id, refresh.hash, REFRESH_TOKEN_TTL_SECONDS.user]);
	if (!rows.length) throw new ApiError(403, "forbidden", "this account is disabled");
	return tokenResponse(c, user!.id, "user", refresh.token);
});
