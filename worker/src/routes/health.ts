/**
 * `GET /api/v1/health`: fast and without the database, for load balancers and uptime checks.
 * `GET /api/v1/health?deep=1` also runs `SELECT 1` against the database, bounded by
 * {@link DEEP_CHECK_TIMEOUT_MS}, and answers 503 with Retry-After when the database is down or
 * slow, so a deploy can be checked end to end.
 *
 * @module
 */
import { Hono } from "hono";
import { createDatabase } from "../../../schema/client";
import type { AppEnv } from "../env";
import { serviceUnavailable } from "../errors";

export const DEEP_CHECK_TIMEOUT_MS = 2_000;

/** `?deep`, `?deep=1` and `?deep=true` ask for the database check; `?deep=0` / `false` do not. */
function wantsDeep(value: string | undefined): boolean {
	return value !== undefined && value !== "0" && value.toLowerCase() !== "false";
}

export const health = new Hono<AppEnv>().get("/", async (c) => {
	const version = c.env.CF_VERSION_METADATA?.id ?? "";
	c.header("Cache-Control", "no-store");
	if (!wantsDeep(c.req.query("deep"))) return c.json({ status: "ok", version });
	const started = Date.now();
	try {
		const { sql } = createDatabase(c.env);
		await sql.query("SELECT 1", [], { fetchOptions: { signal: AbortSignal.timeout(DEEP_CHECK_TIMEOUT_MS) } });
	} catch (error) {
		// The driver's message may name the host: it goes to the log, not to the caller.
		console.error("deep health check failed:", error);
		throw serviceUnavailable(`the database did not answer within ${DEEP_CHECK_TIMEOUT_MS} ms`, {
			database: "unavailable",
		});
	}
	return c.json({ status: "ok", version, database: "ok", database_ms: Date.now() - started });
});
