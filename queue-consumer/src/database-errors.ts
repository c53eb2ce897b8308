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
 * @module
 */

export interface DatabaseFailure {
	permanent: boolean;
	/** SQLSTATE, when Postgres answered; absent for network failures, timeouts and HTTP errors. */
	code?: string;
	/** One line fit for logs and for a dead letter's `reason`. */
	message: string;
}

const PERMANENT_CLASSES = new Set(["22", "23"]);

/** @example classifyDatabaseError(Object.assign(new Error("deadlock detected"), { code: "40P01" })).permanent // false */
export function classifyDatabaseError(error: unknown): DatabaseFailure {
	const code = (error as { code?: unknown } | null)?.code;
	const message = error instanceof Error ? error.message : String(error);
	if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
		return {
			permanent: PERMANENT_CLASSES.has(code.slice(0, 2)),
			code,
			message: `${message} (SQLSTATE ${code})`,
		};
	}
	return { permanent: false, message };
}
