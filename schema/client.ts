/**
 * The database client the API Worker and the queue consumer use: `@neondatabase/serverless` over HTTP. Drizzle defines
 * the schema (tables.ts) and applies the migrations; the Workers' queries are SQL sent through
 * the driver, so no ORM instance is built (or bundled) at run time.
 *
 * In production `DATABASE_URL` is a Neon connection string and the driver finds Neon's HTTP
 * endpoint from its host. Locally, `NEON_HTTP_ENDPOINT` names the endpoint that
 * `ops/local/neon-http-server.ts` serves in front of an embedded or a real Postgres, and the
 * same driver code runs unchanged.
 *
 * @module
 */
import { neon, neonConfig } from "@neondatabase/serverless";

interface DatabaseEnv {
	DATABASE_URL: string;
	NEON_HTTP_ENDPOINT?: string;
}

/** Fails with a message that says how to fix the configuration. */
export function createDatabase(env: DatabaseEnv) {
	if (!env.DATABASE_URL) {
		throw new Error(
			"DATABASE_URL is not set: put the Neon connection string in the Worker's secrets (wrangler secret put DATABASE_URL)",
		);
	}
	// The driver keeps its endpoint globally; every Worker of ours points at a single database.
	if (env.NEON_HTTP_ENDPOINT) neonConfig.fetchEndpoint = env.NEON_HTTP_ENDPOINT;
	const sql = neon(env.DATABASE_URL);
	return { sql };
}
