/**
 * Once a minute (the cron trigger), the counts an operator clears by hand are read from
 * Postgres in one statement and written as one `ledger` data point (schema/metrics.ts LEDGER):
 * the oldest pending deposit's age (since it was first seen), unmatched deposits, unresolved conflicts and shortfalls,
 * dead letters not redriven, and the address families whose pool ran out. The alert rules read
 * them from Analytics Engine (alerts/signals.ts, signal `ledger`), where their history over a
 * rule's window shows whether a queue is growing.
 *
 * Never throws: a database that cannot answer leaves a gap in the figures (the rules say "no
 * data"), and the re-check beside it runs all the same.
 *
 * @module
 */
import { LEDGER, toDataPoint } from "../../schema/metrics";
import type { SettleContext } from "./settle";

/**
 * One round trip; each count uses an index (deposits by status, the pool's unissued index) or
 * a table that stays small (conflicts, shortfalls and dead letters are resolved by hand). A
 * family counts as out of addresses once it had a pool (addresses imported) and every one of
 * them is issued; a family never imported is not in use.
 */
export const LEDGER_COUNTS = `
SELECT COALESCE(EXTRACT(EPOCH FROM now() - (SELECT min(first_seen_at) FROM deposits WHERE status = 'pending')) / 60, 0)::float8 AS oldest_pending_minutes,
	(SELECT count(*) FROM deposits WHERE status = 'unmatched')::int AS unmatched,
	(SELECT count(*) FROM deposit_conflicts WHERE resolved_at IS NULL)::int AS conflicts,
	(SELECT count(*) FROM reversal_shortfalls WHERE resolved_at IS NULL)::int AS shortfalls,
	(SELECT count(*) FROM dead_letters WHERE redriven_at IS NULL)::int AS dead_letters,
	COALESCE((SELECT string_agg(family, ',' ORDER BY family) FROM (
		SELECT family FROM deposit_addresses WHERE origin = 'pool'
		GROUP BY family HAVING count(*) FILTER (WHERE issued_at IS NULL) = 0
	) AS spent), '') AS empty_pool_families`;

interface Counts {
	oldest_pending_minutes: number;
	unmatched: number;
	conflicts: number;
	shortfalls: number;
	dead_letters: number;
	empty_pool_families: string;
}

/** Reads the counts and writes them as one data point; returns them (for logs and tests), or null. */
export async function recordLedgerGauges(context: SettleContext): Promise<Counts | null> {
	if (!context.metrics) return null;
	try {
		const [row] = (await context.sql.query(LEDGER_COUNTS, [], {
			fetchOptions: { signal: AbortSignal.timeout(context.config.databaseTimeoutMs) },
		})) as Counts[];
		if (!row) return null;
		const families = row.empty_pool_families;
		context.metrics.writeDataPoint(
			toDataPoint(LEDGER, {
				kind: "ledger",
				worker: "consumer",
				versionId: context.versionId,
				emptyPoolFamilies: families,
				oldestPendingMinutes: Number(row.oldest_pending_minutes),
				unmatched: Number(row.unmatched),
				conflicts: Number(row.conflicts),
				shortfalls: Number(row.shortfalls),
				deadLetters: Number(row.dead_letters),
				emptyPools: families ? families.split(",").length : 0,
			}),
		);
		return row;
	} catch (error) {
		console.error("ledger gauges not written:", error instanceof Error ? error.message : error);
		return null;
	}
}
