/**
 * Short-lived access tokens: HS256 JWTs signed with the `JWT_SECRET` secret through Hono's JWT
 * helpers. Claims: `sub` (the user's or the admin's id), `role` ("user" | "admin"), `iat`,
 * `exp`, `iss`.
 *
 * A missing or short secret fails closed: nothing is signed or accepted, and the caller gets a
 * 503 that names the fix in the Worker's log.
 *
 * @module
 */
import type { Context } from "hono";
import { sign, verify } from "hono/jwt";
import { JwtTokenExpired } from "hono/utils/jwt/types";
import * as z from "../../../schema/zod";
import { ApiError } from "../../../shared/http/errors";
import type { AppEnv } from "../env";

/** Lifetime of an access token; a refresh token renews it. */
const ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** An HS256 key shorter than this is guessable offline from any token it signed. */
const MIN_JWT_SECRET_LENGTH = 32;
const ISSUER = "cricalgo-edge";

export type Role = "user" | "admin";

/** What an access token proves about its bearer. */
export interface AccessClaims {
	sub: string;
	role: Role;
}

const claimsSchema = z.object({
	sub: z.uuid(),
	role: z.enum(["user", "admin"]),
	exp: z.number().check(z.int()),
});

/** The signing key, or a 503 when the Worker was deployed without a usable one. */
export function jwtSecret(env: { JWT_SECRET?: string }): string {
	const secret = env.JWT_SECRET ?? "";
	if (secret.length < MIN_JWT_SECRET_LENGTH) {
		console.error(
			`JWT_SECRET is ${secret ? `only ${secret.length} characters` : "not set"}: no token is signed or accepted until it holds at least ${MIN_JWT_SECRET_LENGTH} random characters (wrangler secret put JWT_SECRET)`,
		);
		throw new ApiError(
			"service_unavailable",
			"authentication is not configured on this server",
			{},
			{
				"Retry-After": "60",
			},
		);
	}
	return secret;
}

/**
 * Signs an access token.
 *
 * @example
 * ```ts
 * const token = await signAccessToken(c.env, { sub: user.id, role: "user" });
 * ```
 */
export async function signAccessToken(
	env: { JWT_SECRET?: string },
	claims: AccessClaims,
	now = Math.floor(Date.now() / 1000),
): Promise<string> {
	return sign(
		{ sub: claims.sub, role: claims.role, iat: now, exp: now + ACCESS_TOKEN_TTL_SECONDS, iss: ISSUER },
		jwtSecret(env),
		"HS256",
	);
}

/** The answer to a login or a refresh: a new access token, and the refresh token to keep. */
export async function tokenResponse(c: Context<AppEnv>, sub: string, role: Role, refreshToken: string) {
	return c.json({
		access_token: await signAccessToken(c.env, { sub, role }),
		refresh_token: refreshToken,
		token_type: "Bearer" as const,
		expires_in: ACCESS_TOKEN_TTL_SECONDS,
		role,
	});
}

/**
 * Verifies signature, algorithm (HS256 only: `none` and asymmetric algorithms are refused),
 * issuer and expiry, then the claims' shape. Any failure is a 401.
 */
export async function verifyAccessToken(env: { JWT_SECRET?: string }, token: string): Promise<AccessClaims> {
	const secret = jwtSecret(env);
	let payload: unknown;
	try {
		payload = await verify(token, secret, { alg: "HS256", iss: ISSUER });
	} catch (error) {
		const expired = error instanceof JwtTokenExpired;
		throw new ApiError(
			"unauthorized",
			expired ? "the access token has expired" : "the access token is invalid",
			{},
			{
				"WWW-Authenticate": `Bearer error="invalid_token"`,
			},
		);
	}
	const claims = claimsSchema.safeParse(payload);
	if (!claims.success) {
		throw new ApiError(
			"unauthorized",
			"the access token is invalid",
			{},
			{
				"WWW-Authenticate": `Bearer error="invalid_token"`,
			},
		);
	}
	return { sub: claims.data.sub, role: claims.data.role };
}
