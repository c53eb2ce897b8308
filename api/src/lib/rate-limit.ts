/**
 * Rate limits by client address, through Workers rate-limiting bindings (wrangler.toml
 * `[[ratelimits]]`): `AUTH_LIMITER` (20 a minute) for the credential routes (register, login,
 * refresh), keyed by address and route, so guessing passwords or mass-registering costs time
 * (lib/login-throttle.ts adds a brake per account); `HEALTH_LIMITER` (10 a minute) for the deep
 * health check, which costs a database round trip. Over the limit: 429 with Retry-After, in the
 * common error shape.
 *
 * @module
 */
import { createMiddleware } from "hono/factory";
import { ApiError, serviceUnavailable } from "../../../shared/http/errors";
import type { AppEnv } from "../env";

/** The period configured for AUTH_LIMITER in wrangler.toml; the binding does not report it. */
const AUTH_LIMIT_PERIOD_SECONDS = 60;

/** The period configured for HEALTH_LIMITER in wrangler.toml. */
export const HEALTH_LIMIT_PERIOD_SECONDS = 60;

/**
 * Counts one request of `cf-connecting-ip` (set by Cloudflare's edge, not forgeable there)
 * under `key` against `limiter`, and refuses it over the limit. A limiter that fails refuses
 * the request with a retryable 503: without the brake, what it protects would be open to
 * unbounded use, so it fails closed.
 */
export async function limitByAddress(
	c: { req: { header(name: string): string | undefined } },
	limiter: RateLimit,
	name: string,
	route: string,
	periodSeconds: number,
): Promise<void> {
	const ip = c.req.header("cf-connecting-ip") ?? "unknown";
	let allowed: boolean;
	try {
		({ success: allowed } = await limiter.limit({ key: `${route}:${ip}` }));
	} catch (error) {
		console.error(`${name} failed; the request is refused:`, error);
		throw serviceUnavailable("the rate limiter is unavailable; retry later");
	}
	if (!allowed) {
		throw new ApiError(
			"rate_limited",
			`too many ${route} requests from this address; retry after ${periodSeconds} seconds`,
			{ retry_after: periodSeconds },
			{ "Retry-After": String(periodSeconds) },
		);
	}
}

/** The credential routes' limit (AUTH_LIMITER), per address and route. */
export function authRateLimit(route: string) {
	return createMiddleware<AppEnv>(async (c, next) => {
		await limitByAddress(c, c.env.AUTH_LIMITER, "AUTH_LIMITER", route, AUTH_LIMIT_PERIOD_SECONDS);
		await next();
	});
}
