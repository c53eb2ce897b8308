/**
 * The queue message an admin action sends to have a stored deposit settled: the deposit's own
 * chain, tx_hash, log_index, amount, currency and stored confirmations, status "confirmed", its
 * owner as `user_id`, and a `webhook_id` naming the audit row of the action. The message only
 * wakes settlement up: the owner it credits is the one fixed on the deposit row in Postgres by
 * the action itself, so a lost, repeated or stale message can never credit anyone else.
 *
 * @module
 */
import type { DepositMessage } from "../../../schema/queue-message";
import { isPlainObject } from "../../../shared/decimal";

/** A deposit row as the admin routes read it (amount and block number as text). */
export interface StoredDeposit {
	id: string;
	chain: DepositMessage["chain"];
	tx_hash: string;
	log_index: number;
	amount: string;
	currency: string;
	to_address: string | null;
	// null when the sender never said (a deposit the sender declared final).
	confirmations: number | null;
	block_number: string | null;
	metadata: unknown;
}

/** SQL columns that read a {@link StoredDeposit} from `deposits` aliased as `alias`. */
export function storedDepositColumns(alias: string): string {
	return `${alias}.id, ${alias}.chain, ${alias}.tx_hash, ${alias}.log_index, ${alias}.amount::text AS amount,
	${alias}.currency, ${alias}.to_address, ${alias}.confirmations,
	${alias}.block_number::text AS block_number, ${alias}.metadata`;
}

/**
 * @example settlementMessage(row, userId, `admin-assign:${auditId}`)
 */
export function settlementMessage(deposit: StoredDeposit, userId: string, webhookId: string): DepositMessage {
	return {
		v: 1,
		tx_id: deposit.id,
		chain: deposit.chain,
		tx_hash: deposit.tx_hash,
		log_index: deposit.log_index,
		amount: deposit.amount,
		currency: deposit.currency,
		confirmations: deposit.confirmations,
		status: "confirmed",
		to_address: deposit.to_address,
		user_id: userId,
		block_number: deposit.block_number,
		// The contract carries an object or null; anything else stored is not forwarded.
		metadata: isPlainObject(deposit.metadata) ? deposit.metadata : null,
		webhook_id: webhookId,
		received_at: new Date().toISOString(),
	};
}
