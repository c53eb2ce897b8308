/**
 * Database access for the account and admin routes: the shared Neon-over-HTTP client, with
 * failures to reach Postgres turned into a retryable 503 (the caller retries; nothing was
 * changed), while genuine SQL errors stay errors for the route or the 500 handler.
 *
 * @module
 */
import { createDatabase } from "../../../schema/client";
import { sqlState } from "../../../schema/database-errors";
import { serviceUnavailable } from "../../../shared/http/errors";

type Row = Record<string, unknown>;

/** SQLSTATE classes that mean "Postgres is not available right now", not "your SQL is wrong". */
const UNAVAILABLE_SQLSTATE = /^(08|53|57P)/;

/** Whether an error from the driver means the database could not be reached or is overloaded. */
function isDatabaseUnavailable(error: unknown): boolean {
	if (!(error instanceof Error)) return false;
	const code = sqlState(error);
	if (code !== undefined) return UNAVAILABLE_SQLSTATE.test(code);
	// Without a SQLSTATE the driver could not reach the endpoint (fetch failed, HTTP 5xx) or the
	// request timed out; any other error is a bug of ours and stays a 500.
	return error.name === "NeonDbError" || error.name === "AbortError" || error.name === "TimeoutError";
}

/** The SQLSTATE and constraint of a Postgres error, for routes that expect one (e.g. 23505). */
function postgresError(error: unknown): { code?: string; constraint?: string; detail?: string } {
	const e = error as { code?: unknown; constraint?: unknown; detail?: unknown } | null;
	return {
		code: typeof e?.code === "string" ? e.code : undefined,
		constraint: typeof e?.constraint === "string" ? e.constraint : undefined,
		detail: typeof e?.detail === "string" ? e.detail : undefined,
	};
}

/**
 * The columns a unique violation (23505) is about, from Postgres' own detail ("Key (username)=
 * (alice) already exists."), or null for any other error. By column, not by constraint name:
 * the names differ between a database this system created and the original platform's
 * (`users_username_unique` here, `users_username_key` there), the columns do not.
 *
 * @example
 * ```ts
 * uniqueViolation(error); // ["username"]
 * ```
 */
export function uniqueViolation(error: unknown): string[] | null {
	const { code, detail } = postgresError(error);
	if (code !== "23505") return null;
	const columns = /^Key \((.+?)\)=/.exec(detail ?? "")?.[1];
	return columns ? columns.split(",").map((c) => c.trim().replace(/^"|"$/g, "")) : [];
}

function unavailable(error: unknown): never {
	// The driver's message may carry the host name: it goes to the log, not to the caller.
	console.error("database unavailable:", error);
	throw serviceUnavailable("the database is unavailable; retry later");
}

/**
 * A client bound to the Worker's database.
 *
 * @example
 * ```ts
 * const db = database(c.env);
 * const [wallet] = await db.query("SELECT deposit_balance::text FROM wallets WHERE user_id = $1", [sub]);
 * ```
 */
export function database(env: Env) {
	const { sql } = createDatabase(env);
	return {
		/** One parameterised statement; rows as objects. */
		async query<R extends Row = Row>(text: string, params: unknown[] = []): Promise<R[]> {
			try {
				return (await sql.query(text, params)) as R[];
			} catch (error) {
				if (isDatabaseUnavailable(error)) unavailable(error);
				throw error;
			}
		},
		/** Several statements in one round trip and one transaction (read-only when asked). */
		async batch(statements: { text: string; params: unknown[] }[], readOnly = false): Promise<Row[][]> {
			try {
				return (await sql.transaction(
					statements.map((s) => sql.query(s.text, s.params)),
					{ readOnly },
				)) as Row[][];
			} catch (error) {
				if (isDatabaseUnavailable(error)) unavailable(error);
				throw error;
			}
		},
	};
}

export type AccountsDatabase = ReturnType<typeof database>;
