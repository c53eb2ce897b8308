/**
 * One database round trip: the statements of settle-sql.ts sent as one non-interactive
 * transaction (`sql.transaction`, a single HTTP request to Neon), with a time limit, and the
 * per-message outcomes read back.
 *
 * @module
 */
import type { NeonQueryFunction } from "@neondatabase/serverless";
import { type DeliveryRow, RECORD_DELIVERIES } from "./record-deliveries";
import {
	type DeadLetterRow,
	SETTLE_OUTCOMES,
	SETTLE_STATEMENTS,
	type SettleOutcome,
	type SettleRow,
	STORE_DEAD_LETTERS,
} from "./settle-sql";

export type Sql = NeonQueryFunction<false, false>;

const OUTCOMES = new Set<string>(SETTLE_OUTCOMES);

/**
 * Settles `rows`, stores `deadLetters` and records `deliveries` (the delivery of each row's
 * message) atomically: either all of it commits or nothing does. Returns the outcome of each
 * row by its `i`.
 *
 * @throws the driver's error (a `NeonDbError` with `code` when Postgres refused, without when
 * the request failed or timed out); see database-errors.ts.
 */
export async function settleInOneRoundTrip(
	sql: Sql,
	rows: readonly SettleRow[],
	deadLetters: readonly DeadLetterRow[],
	timeoutMs: number,
	deliveries: readonly DeliveryRow[] = [],
): Promise<Map<number, SettleOutcome>> {
	const queries = [];
	if (deadLetters.length) queries.push(sql.query(STORE_DEAD_LETTERS, [JSON.stringify(deadLetters)]));
	// Before the settlement statements: the last result must stay APPLY_BATCH's outcomes.
	if (deliveries.length) queries.push(sql.query(RECORD_DELIVERIES, [JSON.stringify(deliveries)]));
	if (rows.length) {
		const batch = JSON.stringify(rows);
		for (const statement of SETTLE_STATEMENTS) queries.push(sql.query(statement, [batch]));
	}
	const outcomes = new Map<number, SettleOutcome>();
	if (!queries.length) return outcomes;
	const results = await sql.transaction(queries, {
		fetchOptions: { signal: AbortSignal.timeout(timeoutMs) },
	});
	if (!rows.length) return outcomes;
	for (const row of results[results.length - 1] as { i: number; outcome: string }[]) {
		if (!OUTCOMES.has(row.outcome)) throw new Error(`unexpected settlement outcome "${row.outcome}"`);
		outcomes.set(row.i, row.outcome as SettleOutcome);
	}
	return outcomes;
}
