/**
 * Settles a batch of deposit messages in one database round trip.
 *
 * @module
 */
import { createDatabase } from "../../schema/client";
import { type DepositMessage, parseDepositMessage } from "../../schema/queue-message";

export async function settleBatch(batch: MessageBatch<DepositMessage>, env: Env): Promise<void> {
	const { sql } = createDatabase(env);
	const valid = batch.messages.flatMap((m) => {
		const parsed = parseDepositMessage(m.body);
		return parsed.success ? [{ message: m, body: parsed.data }] : [];
	});
	try {
		await sql.transaction(
			valid.map(({ body }) =>
				sql.query(
					`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id,
					  confirmations, required_confirmations, webhook_id)
					 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
					 ON CONFLICT (chain, tx_hash, log_index) DO NOTHING`,
					[
						body.tx_id,
						body.chain,
						body.tx_hash,
						body.log_index,
						body.amount,
						body.currency,
						body.to_address,
						body.user_id,
						body.confirmations ?? 0,
						12,
						body.webhook_id,
					],
				),
			),
		);
		for (const { message } of valid) message.ack();
	} catch (error) {
		console.error("settlement failed, retrying the batch:", error);
		for (const { message } of valid) message.retry({ delaySeconds: Math.min(2 ** message.attempts, 300) });
	}
}
