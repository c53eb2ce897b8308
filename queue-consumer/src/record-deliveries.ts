/**
 * The record of deliveries: one `deposit_deliveries` row per settled queue message, written by
 * one statement of its own in the settlement batch's transaction (settle-transaction.ts), so a
 * delivery is recorded exactly when its message settles, and a batch that rolls back records
 * nothing. Kept apart from the settlement rules (settle-sql.ts): it reads only its own JSON
 * parameter and writes only its own table, so it cannot change what a batch settles.
 *
 * @module
 */
import type { DepositMessage } from "../../schema/queue-message";

/** One delivery as the statement reads it. */
export interface DeliveryRow {
	deposit_id: string;
	webhook_id: string;
	message_id: string;
	attempts: number;
	status: string;
	confirmations: number | null;
	amount: string;
	currency: string;
	source: string | null;
	edge_version: string | null;
	consumer_version: string | null;
	received_at: string;
}

/** The delivery record of a valid message, taken by the consumer version `consumerVersion`. */
export function deliveryRow(
	message: DepositMessage,
	queueMessage: { id: string; attempts: number },
	consumerVersion: string,
): DeliveryRow {
	return {
		deposit_id: message.tx_id,
		webhook_id: message.webhook_id,
		message_id: queueMessage.id,
		attempts: queueMessage.attempts,
		status: message.status,
		confirmations: message.confirmations,
		amount: message.amount,
		currency: message.currency,
		source: message.source ?? null,
		edge_version: message.edge_version ?? null,
		consumer_version: consumerVersion || null,
		received_at: message.received_at,
	};
}

/**
 * Inserts the batch's deliveries ($1, a JSON array of {@link DeliveryRow}). A queue message
 * redelivered after its batch committed (a lost ack) is the same delivery: nothing is added.
 */
export const RECORD_DELIVERIES = `
INSERT INTO deposit_deliveries (deposit_id, webhook_id, message_id, attempts, status, confirmations,
	amount, currency, source, edge_version, consumer_version, received_at)
SELECT r.deposit_id, r.webhook_id, r.message_id, r.attempts, r.status, r.confirmations,
	r.amount::numeric, r.currency, r.source, r.edge_version, r.consumer_version, r.received_at
FROM jsonb_to_recordset($1::jsonb) AS r(deposit_id uuid, webhook_id text, message_id text, attempts int,
	status text, confirmations int, amount text, currency text, source text, edge_version text,
	consumer_version text, received_at timestamptz)
ON CONFLICT (deposit_id, message_id) DO NOTHING`;
