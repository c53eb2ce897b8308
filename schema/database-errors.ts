/**
 * Sorts a failed database round trip into "retry it later" and "this message can never
 * succeed", from the SQLSTATE that Neon passes back.
 *
 * Only data exceptions (class 22) and integrity violations (class 23) are permanent: the same
 * message would fail the same way on every delivery. Everything else is retried: serialization
 * failures and deadlocks (40001, 40P01), resources (53), shutdowns (57P01), connection classes
 * (08), HTTP errors and timeouts (no SQLSTATE at all), and, because a retried message is
 * never lost (after the queue's last retry it lands in the dead-letter table), anything
 * unknown.
 *
 * Here, below the Workers, because the API Worker reads the same SQLSTATE to tell "Postgres is
 * unreachable" (a 503) from a genuine SQL error ({@link sqlState}).
 *
 * @module
 */

interface DatabaseFailure {
	permanent: boolean;
	/** SQLSTATE, when Postgres answered; absent for network failures, timeouts and HTTP errors. */
	code?: string;
	/** One line fit for logs and for a dead letter's `reason`. */
	message: string;
}

const PERMANENT_CLASSES = new Set(["22", "23"]);

/**
 * The SQLSTATE of a failed query, when Postgres answered; undefined for network failures,
 * timeouts and HTTP errors, which carry none.
 *
 * @example sqlState(Object.assign(new Error("deadlock detected"), { code: "40P01" })) // "40P01"
 */
export function sqlState(error: unknown): string | undefined {
	const code = (error as { code?: unknown } | null)?.code;
	return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** @example classifyDatabaseError(Object.assign(new Error("deadlock detected"), { code: "40P01" })).permanent // false */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
	const code = sqlState(error);
	const message = error instanceof Error ? error.message : String(error);
	if (code !== undefined) {
		return {
			permanent: PERMANENT_CLASSES.has(code.slice(0, 2)),
			code,
			message: `${message} (SQLSTATE ${code})`,
		};
	}
	return { permanent: false, message };
}
