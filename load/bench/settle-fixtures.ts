/**
 * What the settlement benchmark settles: synthetic deposits, each new, attributed to one of
 * the seeded users and past its threshold, so each takes the full path (inserted already
 * credited, ledger row, wallet); and the shapes the consumer and the SQL take them in.
 *
 * @module
 */
import {
	parseConsumerConfig,
	type QueueBatch,
	type QueueMessage,
	type SettleRow,
	settleRow,
} from "../../queue-consumer/engine";
import type { DepositMessage } from "../../schema/queue-message";
import { depositTxId } from "../../schema/tx-id";

export const config = parseConsumerConfig({ CONFIRMATIONS: { bep20: 12, erc20: 12, trc20: 19 } });

let serial = 0;

/** `count` new deposits, spread over `users` in turn. */
export async function syntheticDeposits(count: number, users: string[]): Promise<DepositMessage[]> {
	const now = new Date().toISOString();
	return Promise.all(
		Array.from({ length: count }, async () => {
			const n = ++serial;
			const txHash = `0x${n.toString(16).padStart(64, "0")}`;
			return {
				v: 1 as const,
				tx_id: await depositTxId("bep20", txHash, 0),
				chain: "bep20" as const,
				tx_hash: txHash,
				log_index: 0,
				amount: `${(n % 997) + 1}.${String(n % 100_000_000).padStart(8, "0")}`,
				currency: "USDT",
				confirmations: 15,
				status: "confirmed" as const,
				to_address: "0x2222222222222222222222222222222222222222",
				user_id: users[n % users.length]!,
				block_number: String(40_000_000 + n),
				metadata: { source: "bench" },
				webhook_id: `bench_${n}`,
				received_at: now,
			};
		}),
	);
}

export function chunk<T>(items: T[], size: number): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
	return out;
}

/** A queue batch as the runtime would hand it over; counts acks and retries. */
export function queueBatch(bodies: DepositMessage[], tally: { acked: number; retried: number }): QueueBatch {
	const messages: QueueMessage[] = bodies.map((body, i) => ({
		id: `bench-${body.webhook_id}-${i}`,
		timestamp: new Date(),
		body,
		attempts: 1,
		ack: () => {
			tally.acked++;
		},
		retry: () => {
			tally.retried++;
		},
	}));
	return { queue: "deposits", messages };
}

/** A batch as the settlement SQL reads it (the consumer's own mapping, without its checks). */
export function settleRows(bodies: DepositMessage[]): SettleRow[] {
	return bodies.map((m, i) => ({
		i,
		message_id: `raw-${m.webhook_id}`,
		attempts: 1,
		...settleRow(m, config),
	}));
}

/** The rows a batch's credits write, with no rules, no locks and no checks: the `floor`. */
export const FLOOR_SQL = `
WITH m AS (
	SELECT r.* FROM jsonb_to_recordset($1::jsonb) AS r(tx_id uuid, chain text, tx_hash text,
		log_index int, amount numeric, currency text, confirmations int, user_id uuid, to_address text,
		block_number bigint, webhook_id text, metadata jsonb, threshold int)
),
d AS (
	INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
		confirmations, required_confirmations, block_number, webhook_id, metadata, credited_at)
	SELECT tx_id, chain, tx_hash, log_index, amount, currency, to_address, user_id, 'credited',
		confirmations, threshold, block_number, webhook_id, metadata, now()
	FROM m
	RETURNING id, user_id, amount, currency, chain, tx_hash, log_index, confirmations
),
ledger AS (
	INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata)
	SELECT user_id, 'deposit', amount, currency, 'deposit', id, jsonb_build_object('chain', chain,
		'tx_hash', tx_hash, 'log_index', log_index, 'confirmations', confirmations)
	FROM d
)
UPDATE wallets w SET deposit_balance = w.deposit_balance + x.delta, updated_at = now()
FROM (SELECT user_id, sum(amount) AS delta FROM d GROUP BY user_id) x
WHERE w.user_id = x.user_id`;
