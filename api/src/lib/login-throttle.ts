/**
 * Per-account brake on password and TOTP guessing, beside the per-address rate limit
 * (rate-limit.ts): an attacker with many addresses still gets a handful of guesses per account.
 *
 * Failed logins are counted per account name in `login_throttle` (players and admins apart),
 * whether or not the account exists, so a lock tells nothing about which names are taken.
 * After {@link FAILURES_BEFORE_LOCK} failures in a row the name is locked for one minute, and
 * every further failure doubles that, up to {@link MAX_LOCK_SECONDS}; a lock refuses every
 * attempt without checking the password (429 `account_locked` with Retry-After), and a
 * successful login clears the count. Failures more than {@link FAILURE_MEMORY_SECONDS} apart
 * start over. Each refusal is a request with error code `account_locked` in the metrics, which
 * the `LoginAccountLocked` alert counts (shared/alerts/rules.ts).
 *
 * The cost of a lock is borne by the account's owner too (someone who guesses can keep an
 * account locked): the lock is short and bounded, admins see the alert, and the audit log has
 * every failed admin login.
 *
 * @module
 */
import { ApiError } from "../../../shared/http/errors";
import type { AccountsDatabase } from "./database";

export const FAILURES_BEFORE_LOCK = 5;
export const FIRST_LOCK_SECONDS = 60;
const MAX_LOCK_SECONDS = 3600;
const FAILURE_MEMORY_SECONDS = 3600;

export type LoginScope = "user" | "admin";

/** The lock still running for a name ($1 scope, $2 name), in whole seconds; no row when none. */
export const LOCK_REMAINING = `
SELECT COALESCE(ceil(extract(epoch FROM (locked_until - now())))::int, 0) AS locked_for
FROM login_throttle WHERE scope = $1 AND username = $2 AND locked_until > now()`;

/**
 * Counts one failure and returns how long the name is now locked (0 when not). Also removes a
 * few rows that have long been quiet, so guesses at made-up names do not accumulate.
 * ($3 memory, $4 first lock, $5 longest lock, $6 failures before the lock, all in seconds.)
 */
const FAILURES_NOW =
	"CASE WHEN t.last_failure_at < now() - make_interval(secs => $3::int) THEN 1 ELSE t.failures + 1 END";
const lockFor = (failures: string) =>
	`CASE WHEN ${failures} >= $6::int THEN now() + make_interval(secs => LEAST($5::int, $4::int * power(2, ${failures} - $6::int)::int)) END`;
const RECORD_FAILURE = `
WITH tidy AS (
	DELETE FROM login_throttle WHERE ctid IN (
		SELECT ctid FROM login_throttle
		WHERE last_failure_at < now() - interval '1 day' AND (locked_until IS NULL OR locked_until < now())
		LIMIT 20)
)
INSERT INTO login_throttle AS t (scope, username, failures, last_failure_at, locked_until)
VALUES ($1, $2, 1, now(), ${lockFor("1")})
ON CONFLICT (scope, username) DO UPDATE SET
	failures = ${FAILURES_NOW},
	last_failure_at = now(),
	locked_until = COALESCE(${lockFor(FAILURES_NOW)}, t.locked_until)
RETURNING COALESCE(ceil(extract(epoch FROM (locked_until - now())))::int, 0) AS locked_for`;

/** The refusal while a name is locked; the same for every name, existing or not. */
export function accountLocked(seconds: number): ApiError {
	return new ApiError(
		"account_locked",
		`too many failed logins for this account; try again in ${seconds} seconds`,
		{ retry_after: seconds },
		{ "Retry-After": String(seconds) },
	);
}

/**
 * Counts a failure, with `also` in the same round trip and transaction (an audit row); returns
 * the error to answer with: 429 once this failure locked the name, else `otherwise`.
 */
export async function recordFailure(
	db: AccountsDatabase,
	scope: LoginScope,
	username: string,
	otherwise: ApiError,
	also: { text: string; params: unknown[] }[] = [],
): Promise<ApiError> {
	const [result] = await db.batch([
		{
			text: RECORD_FAILURE,
			params: [
				scope,
				username,
				FAILURE_MEMORY_SECONDS,
				FIRST_LOCK_SECONDS,
				MAX_LOCK_SECONDS,
				FAILURES_BEFORE_LOCK,
			],
		},
		...also,
	]);
	const lockedFor = Number(result?.[0]?.locked_for ?? 0);
	return lockedFor > 0 ? accountLocked(lockedFor) : otherwise;
}
