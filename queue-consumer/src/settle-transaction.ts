/**
 * One database round trip: the statements of settle-sql.ts sent as one non-interactive
 * transaction (`sql.transaction`, a single HTTP request to Neon), with a time limit, and the
 * per-message outcomes read back.
 *
 * @module
 */
import type { NeonQueryFunction } from "@neondatabase/serverless";
import { type ChainCheckRow, HOLD_DEPOSITS, type HoldRow, RECORD_CHAIN_CHECKS } from "./chain-sql";
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

/** What on-chain verification adds to a batch's transaction (chain-sql.ts). */
interface ChainWrites {
	/** Deposits the chain contradicts, held for review. */
	holds: readonly HoldRow[];
	/** The block and its hash of each transfer the chain confirmed. */
	blocks: readonly ChainCheckRow[];
}

/** A row's outcome: the settlement SQL's, or `held` for a deposit the chain contradicts. */
export type RowOutcome = SettleOutcome | "held";

const NO_CHAIN_WRITES: ChainWrites = { holds: [], blocks: [] };

/**
 * Settles `rows`, stores `deadLetters`, writes what the chain said (`chain`) and records
 * `deliveries` (the delivery of each settled or held message) atomically: either all of it
 * commits or nothing does. Returns the outcome of each row by its `i`.
 *
 * @throws the driver's error (a `NeonDbError` with `code` when Postgres refused, without when
 * the request failed or timed out); see schema/database-errors.ts.
 */
export async function settleInOneRoundTrip(
	sql: Sql,
	rows: readonly SettleRow[],
	deadLetters: readonly DeadLetterRow[],
	timeoutMs: number,
	chain: ChainWrites = NO_CHAIN_WRITES,
	deliveries: readonly DeliveryRow[] = [],
): Promise<Map<number, RowOutcome>> {
	const queries = [];
	if (deadLetters.length) queries.push(sql.query(STORE_DEAD_LETTERS, [JSON.stringify(deadLetters)]));
	// Its own table and parameter only: it cannot change what the batch settles.
	if (deliveries.length) queries.push(sql.query(RECORD_DELIVERIES, [JSON.stringify(deliveries)]));
	let outcomesAt = -1;
	if (rows.length) {
		const batch = JSON.stringify(rows);
		for (const statement of SETTLE_STATEMENTS) queries.push(sql.query(statement, [batch]));
		outcomesAt = queries.length - 1;
	}
	// After settlement: its rows are locked by then (chain-sql.ts).
	if (chain.blocks.length) queries.push(sql.query(RECORD_CHAIN_CHECKS, [JSON.stringify(chain.blocks)]));
	if (chain.holds.length) queries.push(sql.query(HOLD_DEPOSITS, [JSON.stringify(chain.holds)]));
	const outcomes = new Map<number, RowOutcome>();
	if (!queries.length) return outcomes;
	const results = await sql.transaction(queries, {
		fetchOptions: { signal: AbortSignal.timeout(timeoutMs) },
	});
	for (const hold of chain.holds) outcomes.set(hold.i, "held");
	if (outcomesAt < 0) return outcomes;
	for (const row of results[outcomesAt] as { i: number; outcome: string }[]) {
		if (!OUTCOMES.has(row.outcome)) throw new Error(`unexpected settlement outcome "${row.outcome}"`);
		outcomes.set(row.i, row.outcome as SettleOutcome);
	}
	return outcomes;
}
