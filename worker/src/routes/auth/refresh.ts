/**
 * `POST /api/v1/auth/refresh` `{refresh_token}`: trades a refresh token for a new access token
 * and a new refresh token. The old one is revoked in the same statement that issues the new
 * one, so of two concurrent uses only one succeeds. A token that was already rotated is a
 * stolen or replayed one: every live token of its subject is revoked and the caller must log in
 * again. A disabled user or a deleted admin cannot refresh.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors";
import { jwtSecret, type Role, tokenResponse } from "../../lib/access-token";
import { database } from "../../lib/database";
import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_TTL_SECONDS } from "../../lib/refresh-token";
import { jsonBody } from "../../lib/request-input";

const refreshSchema = z.object({ refresh_token: z.string().min(16).max(256) });

const ROTATE = `
WITH used AS (
	UPDATE refresh_tokens SET revoked_at = now()
	WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now()
		AND ((role = 'user' AND EXISTS (SELECT 1 FROM users WHERE id = subject AND status <> 'DISABLED'))
			OR (role = 'admin' AND EXISTS (SELECT 1 FROM admins WHERE id = subject)))
	RETURNING subject, role
)
INSERT INTO refresh_tokens (subject, role, token_hash, expires_at)
SELECT subject, role, $2,
	now() + make_interval(secs => CASE role WHEN 'admin' THEN $3::int ELSE $4::int END)
FROM used
RETURNING subject, role`;

/** Reuse of a rotated token: revoke the whole family of its subject. */
const REVOKE_ON_REUSE = `
UPDATE refresh_tokens SET revoked_at = now()
WHERE revoked_at IS NULL
	AND subject IN (SELECT subject FROM refresh_tokens WHERE token_hash = $1 AND revoked_at IS NOT NULL)
RETURNING id`;

export const refresh = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, refreshSchema);
	jwtSecret(c.env);
	const db = database(c.env);
	const presented = await hashRefreshToken(input.refresh_token);
	const next = await newRefreshToken();
	const [row] = await db.query<{ subject: string; role: Role }>(ROTATE, [
		presented,
		next.hash,
		REFRESH_TOKEN_TTL_SECONDS.admin,
		REFRESH_TOKEN_TTL_SECONDS.user,
	]);
	if (!row) {
		const revoked = await db.query(REVOKE_ON_REUSE, [presented]);
		if (revoked.length)
			console.warn(`refresh token reused; revoked ${revoked.length} live token(s) of its subject`);
		throw new ApiError(
			401,
			"unauthorized",
			"the refresh token is invalid, expired or already used; log in again",
		);
	}
	return tokenResponse(c, row.subject, row.role, next.token);
});
