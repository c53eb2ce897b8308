/**
 * `GET /api/v1/health?deep=1`, the deep health check: the edge Worker answers the fast check
 * itself and forwards this one here (worker/src/routes/health.ts), so it runs end to end, edge →
 * API → database. It asks the database for its clock, bounded by {@link DEEP_CHECK_TIMEOUT_MS},
 * and answers 503 with Retry-After when the database is down or slow, so a deploy can be checked
 * end to end. The edge decides what is deep; whatever reaches this route is checked.
 *
 * The deep check costs a database round trip, and anyone can ask for it, so it is throttled
 * twice: per client address (`HEALTH_LIMITER`, 10 a minute, then 429), and per Worker isolate a
 * successful answer is reused for {@link DEEP_CHECK_REUSE_MS} (checks asked for meanwhile share
 * it, and one that is under way), so a flood of deep checks from many addresses still costs the
 * database at most one round trip per isolate in that time. A failed check is not reused: the
 * next one looks again.
 *
 * @module
 */
import { Hono } from "hono";
import { createDatabase } from "../../../schema/client";
import { serviceUnavailable } from "../../../shared/http/errors";
import type { AppEnv } from "../env";
import { HEALTH_LIMIT_PERIOD_SECONDS, limitByAddress } from "../lib/rate-limit";

const DEEP_CHECK_TIMEOUT_MS = 2_000;
/** How long a successful deep check answers for the ones after it. */
const DEEP_CHECK_REUSE_MS = 5_000;

interface DeepCheck {
	startedAt: number;
	/** The round trip's duration and the database's clock when it answered. */
	result: Promise<{ ms: number; at: string }>;
}

/** The latest deep check per database (by connection string and endpoint), in this isolate. */
const latest = new Map<string, DeepCheck>();

async function pingDatabase(env: Env): Promise<{ ms: number; at: string }> {
	const started = Date.now();
	const { sql } = createDatabase(env);
	const rows = (await sql.query(
		`SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`,
		[],
		{ fetchOptions: { signal: AbortSignal.timeout(DEEP_CHECK_TIMEOUT_MS) } },
	)) as { at: string }[];
	return { ms: Date.now() - started, at: rows[0]?.at ?? "" };
}

/** A running or recent successful check of this database, else a new one. */
function deepCheck(env: Env): { check: DeepCheck; reused: boolean } {
	const key = `${env.NEON_HTTP_ENDPOINT ?? ""} ${env.DATABASE_URL ?? ""}`;
	const previous = latest.get(key);
	if (previous && Date.now() - previous.startedAt < DEEP_CHECK_REUSE_MS)
		return { check: previous, reused: true };
	const check: DeepCheck = { startedAt: Date.now(), result: pingDatabase(env) };
	latest.set(key, check);
	check.result.catch(() => {
		if (latest.get(key) === check) latest.delete(key);
	});
	return { check, reused: false };
}

export const health = new Hono<AppEnv>().get("/", async (c) => {
	const version = c.env.CF_VERSION_METADATA?.id ?? "";
	c.header("Cache-Control", "no-store");
	await limitByAddress(c, c.env.HEALTH_LIMITER, "HEALTH_LIMITER", "deep health", HEALTH_LIMIT_PERIOD_SECONDS);
	const { check, reused } = deepCheck(c.env);
	let answer: { ms: number; at: string };
	try {
		answer = await check.result;
	} catch (error) {
		// The driver's message may name the host: it goes to the log, not to the caller.
		if (!reused) console.error("deep health check failed:", error);
		throw serviceUnavailable(`the database did not answer within ${DEEP_CHECK_TIMEOUT_MS} ms`, {
			database: "unavailable",
		});
	}
	return c.json({
		status: "ok",
		version,
		database: "ok",
		database_ms: answer.ms,
		// The database's clock when it answered: answers that share one check share it.
		database_time: answer.at,
	});
});
