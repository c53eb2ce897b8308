/**
 * Where a deposit can stand: the one list the `deposit_state` enum of `deposits.status` is made
 * from (tables.ts `depositStatus`, and so its migrations), as a plain list the Workers import
 * without pulling Drizzle into their bundles. The status route's statuses
 * (api/src/lib/deposit-status.ts) and settlement's outcomes (queue-consumer/src/settle-sql.ts)
 * are derived from it. `reverted`: removed by a reorg before credit; `reversed`:
 * after. `held`: kept for an operator's review (`hold_reason` says why), never credited while
 * held. `rejected`: a held deposit an admin reviewed and refused; final, never credited.
 *
 * @module
 */
export const DEPOSIT_STATES = [
	"pending",
	"credited",
	"unmatched",
	"reverted",
	"reversed",
	"held",
	"rejected",
] as const;

export type DepositState = (typeof DEPOSIT_STATES)[number];
