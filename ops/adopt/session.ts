/**
 * The database session `ops adopt` and `ops reconcile` work through: a `pg` client with
 * explicit transactions, so each phase of an adoption commits whole or not at all.
 *
 * @module
 */
import type pg from "pg";

type Row = Record<string, unknown>;

export interface Session {
	query<R extends Row = Row>(text: string, params?: unknown[]): Promise<R[]>;
	/**
	 * Runs `work` in one transaction that also holds the adoption lock (so two adoptions never
	 * run at once), with a lock timeout, so a phase that waits for the original platform's locks
	 * fails with a message instead of hanging.
	 */
	transaction<T>(work: () => Promise<T>): Promise<T>;
}

/** Key of the advisory lock an adoption holds ("cricalgo adopt" as a 64-bit number). */
const ADOPTION_LOCK = "7162935524118345301";
const LOCK_TIMEOUT = "15s";

export function pgSession(client: pg.Client): Session {
	return {
		async query<R extends Row = Row>(text: string, params: unknown[] = []) {
			return (await client.query(text, params)).rows as R[];
		},
		async transaction(work) {
			await client.query("BEGIN");
			try {
				await client.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
				const [lock] = (await client.query(`SELECT pg_try_advisory_xact_lock(${ADOPTION_LOCK}) AS held`))
					.rows;
				if (!lock?.held) {
					throw new Error(
						"another ops adopt is running on this database right now: wait for it to finish, then run this one again",
					);
				}
				const result = await work();
				await client.query("COMMIT");
				return result;
			} catch (error) {
				await client.query("ROLLBACK").catch(() => {});
				if ((error as { code?: string }).code === "55P03") {
					throw new Error(
						`a table adopt needs stayed locked by another session for ${LOCK_TIMEOUT} (the original platform writing?): nothing of this phase was changed; pause the original's workers or retry later`,
					);
				}
				throw error;
			}
		},
	};
}
