/**
 * `POST /api/v1/auth/refresh` `{refresh_token}`: trades a refresh token for a new access token
 * and a new refresh token in the same family (one family per login). The old token is revoked
 * in the same statement that issues the next one, so of two concurrent uses only one rotates.
 *
 * Two tabs of one session refresh at once: the one that lost the race presents a token rotated
 * a moment ago. Within {@link REFRESH_REUSE_GRACE_SECONDS} of its rotation, while its family is
 * still live, that token gets a new token of the family too. Later, a rotated token is a stolen
 * or replayed one: its family (that one session) is revoked and the caller must log in again;
 * the subject's other sessions are untouched. A disabled user or a deleted admin cannot refresh.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/request-input";
import type { AppEnv } from "../../env";
import { jwtSecret, type Role, tokenResponse } from "../../lib/access-token";
import { database } from "../../lib/database";
import { hashRefreshToken, newRefreshToken, REFRESH_TOKEN_TTL_SECONDS } from "../../lib/refresh-token";

export const refreshSchema = z.object({ refresh_token: z.string().check(z.minLength(16), z.maxLength(256)) });

/** How long after its rotation a refresh token may still be traded, for a concurrent refresh. */
const REFRESH_REUSE_GRACE_SECONDS = 20;

const ACCOUNT_LIVE = `((role = 'user' AND EXISTS (SELECT 1 FROM users WHERE id = subject AND status <> 'DISABLED'))
	OR (role = 'admin' AND EXISTS (SELECT 1 FROM admins WHERE id = subject)))`;

const NEXT_TOKEN = `
INSERT INTO refresh_tokens (subject, role, token_hash, family_id, expires_at)
SELECT subject, role, $2, family_id,
	now() + make_interval(secs => CASE role WHEN 'admin' THEN $3::int ELSE $4::int END)`;

const ROTATE = `
WITH used AS (
	UPDATE refresh_tokens SET revoked_at = now(), rotated_at = now()
	WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > now() AND ${ACCOUNT_LIVE}
	RETURNING subject, role, family_id
)
${NEXT_TOKEN} FROM used
RETURNING subject, role`;

/** A token rotated moments ago, in a family still live: the other tab's refresh. */
const GRACE = `
WITH prior AS (
	SELECT t.subject, t.role, t.family_id FROM refresh_tokens t
	WHERE t.token_hash = $1 AND t.rotated_at > now() - make_interval(secs => $5::int) AND t.expires_at > now()
		AND EXISTS (SELECT 1 FROM refresh_tokens f WHERE f.family_id = t.family_id AND f.revoked_at IS NULL AND f.expires_at > now())
		AND ${ACCOUNT_LIVE.replaceAll("subject", "t.subject").replaceAll("role =", "t.role =")}
)
${NEXT_TOKEN} FROM prior
RETURNING subject, role`;

/** Reuse of a rotated token after the grace: revoke its family, that session only. */
const REVOKE_FAMILY = `
UPDATE refresh_tokens SET revoked_at = now()
WHERE revoked_at IS NULL
	AND family_id IN (SELECT family_id FROM refresh_tokens WHERE token_hash = $1 AND rotated_at IS NOT NULL)
RETURNING id`;

export const refresh = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, refreshSchema);
	jwtSecret(c.env);
	const db = database(c.env);
	const presented = await hashRefreshToken(input.refresh_token);
	const next = await newRefreshToken();
	const params = [presented, next.hash, REFRESH_TOKEN_TTL_SECONDS.admin, REFRESH_TOKEN_TTL_SECONDS.user];
	const [rotated] = await db.query<{ subject: string; role: Role }>(ROTATE, params);
	const [row] = rotated
		? [rotated]
		: await db.query<{ subject: string; role: Role }>(GRACE, [...params, REFRESH_REUSE_GRACE_SECONDS]);
	if (!row) {
		const revoked = await db.query(REVOKE_FAMILY, [presented]);
		if (revoked.length) {
			console.warn(
				`refresh token reused after rotation; revoked the ${revoked.length} live token(s) of its session`,
			);
		}
		throw new ApiError("unauthorized", "the refresh token is invalid, expired or already used; log in again");
	}
	return tokenResponse(c, row.subject, row.role, next.token);
});
