/**
 * Rate limit for the credential routes (register, login, refresh) through the `AUTH_LIMITER`
 * binding (wrangler.toml `[[ratelimits]]`: 20 requests a minute), keyed by client address and
 * route, so guessing passwords or mass-registering costs time. Over the limit: 429 with
 * Retry-After, in the common error shape.
 *
 * @module
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../env";
import { ApiError, serviceUnavailable } from "../errors";

/** The period configured for AUTH_LIMITER in wrangler.toml; the binding does not report it. */
export const AUTH_LIMIT_PERIOD_SECONDS = 60;

/**
 * Limits by `cf-connecting-ip` (set by Cloudflare's edge, not forgeable there) and `route`.
 * A limiter that fails refuses the request with a retryable 503: without the brake, the
 * credential routes would be open to unbounded guessing, so they fail closed.
 */
export function authRateLimit(route: string) {
	return createMiddleware<AppEnv>(async (c, next) => {
		const ip = c.req.header("cf-connecting-ip") ?? "unknown";
		let allowed: boolean;
		try {
			({ success: allowed } = await c.env.AUTH_LIMITER.limit({ key: `${route}:${ip}` }));
		} catch (error) {
			console.error("AUTH_LIMITER failed; the request is refused:", error);
			throw serviceUnavailable("the rate limiter is unavailable; retry later");
		}
		if (!allowed) {
			throw new ApiError(
				429,
				"rate_limited",
				`too many ${route} attempts from this address; retry after ${AUTH_LIMIT_PERIOD_SECONDS} seconds`,
				{ retry_after: AUTH_LIMIT_PERIOD_SECONDS },
				{ "Retry-After": String(AUTH_LIMIT_PERIOD_SECONDS) },
			);
		}
		await next();
	});
}
