/**
 * Where a deposit can stand (the `deposit_state` enum of `deposits.status`), as a plain list the
 * Workers can import without Drizzle. `reverted`: removed by a reorg before credit; `reversed`:
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
