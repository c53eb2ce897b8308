/**
 * `GET /api/v1/health`: fast and without the database, for load balancers and uptime checks;
 * it says that the edge, which accepts deposits, is up. `GET /api/v1/health?deep=1` is the API
 * Worker's (api/src/routes/health.ts): the edge forwards it, so a deep check runs end to end,
 * edge → API → database.
 *
 * @module
 */
import { Hono } from "hono";
import type { AppEnv } from "../env";
import { forwardToApi } from "../forward";

/** `?deep`, `?deep=1` and `?deep=true` ask for the database check; `?deep=0` / `false` do not. */
function wantsDeep(value: string | undefined): boolean {
	return value !== undefined && value !== "0" && value.toLowerCase() !== "false";
}

export const health = new Hono<AppEnv>().get("/", async (c) => {
	if (wantsDeep(c.req.query("deep"))) return forwardToApi(c);
	c.header("Cache-Control", "no-store");
	const version = c.env.CF_VERSION_METADATA?.id ?? "";
	// A local stack's start id (ops/local/stack.ts): how a start knows these Workers are its own.
	const startId = c.env.LOCAL_START_ID ? { start_id: c.env.LOCAL_START_ID } : {};
	return c.json({ status: "ok", version, ...startId });
});
