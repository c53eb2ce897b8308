/**
 * Bearer authentication for the account and admin routes: verifies the access token and puts
 * its claims in `c.var.auth`; a route group names the roles it admits.
 *
 * Stateless by design (no database read per request): an access token lives 15 minutes, and
 * everything that changes money or writes the audit log checks the account in the same
 * statement that does the work.
 *
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError } from "../../../shared/http/errors";
import type { AppEnv } from "../env";
import { type AccessClaims, type Role, verifyAccessToken } from "./access-token";

/** The app's environment plus the verified claims of the caller. */
export type AuthedEnv = {
	Bindings: AppEnv["Bindings"];
	Variables: AppEnv["Variables"] & { auth: AccessClaims };
};

/**
 * Admits a request whose `Authorization: Bearer <jwt>` is valid and whose role is one of
 * `roles`: 401 without a valid token, 403 with a valid token of another role.
 *
 * @example
 * ```ts
 * export const wallet = new Hono<AuthedEnv>().use(requireAuth("user")).get("/", ...);
 * ```
 */
export function requireAuth(...roles: Role[]) {
	return createMiddleware<AuthedEnv>(async (c, next) => {
		const header = c.req.header("authorization") ?? "";
		const match = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/i.exec(header.trim());
		if (!match) {
			throw new ApiError(
				"unauthorized",
				"send an access token: Authorization: Bearer <token>",
				{},
				{
					"WWW-Authenticate": "Bearer",
				},
			);
		}
		const claims = await verifyAccessToken(c.env, match[1]!);
		if (!roles.includes(claims.role)) {
			throw new ApiError("forbidden", `this route is for ${roles.join(" or ")} accounts`);
		}
		c.set("auth", claims);
		await next();
	});
}
