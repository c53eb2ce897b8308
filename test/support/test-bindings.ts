/**
 * The bindings vitest.config.ts gives the test runner beyond its Worker's own (the runner is the
 * edge Worker): the test database, which tests seed and read, and the API Worker's bindings, so
 * that the API's tests can call the API's app with a changed environment. The edge's code never
 * reads them (its generated `Env` has none of them); this says to the edge's tests that they are
 * there.
 *
 * @module
 */
import { env } from "cloudflare:workers";

export const testBindings = env as typeof env & {
	DATABASE_URL: string;
	NEON_HTTP_ENDPOINT: string;
	/** The API Worker's credential-route limiter: a real local rate limit (20 a minute). */
	AUTH_LIMITER: RateLimit;
};
