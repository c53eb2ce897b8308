/**
 * Helpers for the consumer's tests (inside workerd): users with wallets, valid v1 messages,
 * delivering a batch to the real `queue` handler, reading the ledger, flipping the fault proxy,
 * and checking the ledger invariants.
 *
 * @module
 */
import {
	createExecutionContext,
	createMessageBatch,
	getQueueResult,
	type QueueResult,
} from "cloudflare:test";
import { env } from "cloudflare:workers";
import { inject } from "vitest";
import type { FaultSettings, FaultStats } from "../../../ops/local/fault-settings";
import { CHAIN_FAMILY, storedAddressSql } from "../../../schema/address-family";
import { assertLedgerInvariants, type LedgerReport } from "../../../schema/ledger-invariants";
import type { DepositMessage } from "../../../schema/queue-message";
import { depositTxId } from "../../../schema/tx-id";
import { ledgerQuery, testDatabase } from "../../../test/support/database";
import worker from "../../src/index";

declare module "vitest" {
	export interface ProvidedContext {
		/** Provided by test/global-setup.ts. */
		faultProxy: { endpoint: string; control: string };
	}
}

export const sql = () => testDatabase(env).sql;

let users = 0;
/** A user and its wallet, inserted together (as the platform does). */
export async function createUser(): Promise<string> {
	const name = `player_${++users}_${crypto.randomUUID().slice(0, 8)}`;
	const [row] = await sql().query(
		`WITH u AS (INSERT INTO users (username) VALUES ($1) RETURNING id)
		 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
		[name],
	);
	return (row as { user_id: string }).user_id;
}

/**
 * Registers `address` to `userId` for the family of `chain`, in its stored form (EVM
 * lower-cased, TRON as given), as the admin registration route does.
 */
export async function registerAddress(
	userId: string,
	address: string,
	chain: DepositMessage["chain"] = "bep20",
): Promise<void> {
	await sql().query(
		`INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at)
		 VALUES ($1, ${storedAddressSql("$2::text", "$3::text")}, $4, 'admin', now())`,
		[CHAIN_FAMILY[chain], chain, address, userId],
	);
}

let hashes = 0;
/** A fresh transaction hash. */
export function txHash(): string {
	return `0x${(++hashes).toString(16).padStart(8, "0")}${crypto.randomUUID().replaceAll("-", "")}`;
}

/** A valid v1 message; `tx_id` is computed from the key unless given. */
export async function depositMessage(overrides: Partial<DepositMessage> = {}): Promise<DepositMessage> {
	const base = {
		v: 1 as const,
		chain: "bep20" as const,
		tx_hash: txHash(),
		log_index: 0,
		amount: "25.50",
		currency: "USDT",
		confirmations: 12,
		status: "confirmed" as const,
		to_address: null,
		user_id: null,
		block_number: null,
		metadata: null,
		webhook_id: `msg_${crypto.randomUUID()}`,
		received_at: new Date().toISOString(),
		...overrides,
	};
	const tx_id =
		overrides.tx_id ?? (await depositTxId(base.chain, base.tx_hash.trim().toLowerCase(), base.log_index));
	return { ...base, tx_id };
}

/** A later delivery of the same deposit (same key), e.g. with more confirmations. */
export function again(message: DepositMessage, changes: Partial<DepositMessage> = {}): DepositMessage {
	return {
		...message,
		webhook_id: `msg_${crypto.randomUUID()}`,
		received_at: new Date().toISOString(),
		...changes,
	};
}

/** Data points written through a wrapped METRICS binding. */
export function recordingMetrics() {
	const points: { blobs: string[]; doubles: number[]; indexes: string[] }[] = [];
	return {
		points,
		binding: {
			writeDataPoint(point?: AnalyticsEngineDataPoint) {
				points.push({
					blobs: (point?.blobs ?? []).map(String),
					doubles: [...(point?.doubles ?? [])],
					indexes: (point?.indexes ?? []).map(String),
				});
			},
		} as AnalyticsEngineDataset,
	};
}

let messages = 0;
export interface Delivery {
	result: QueueResult;
	/** Message ids in the order given. */
	ids: string[];
	acked: Set<string>;
	retried: Map<string, number | undefined>;
}

/** Delivers `bodies` as one batch to the consumer's `queue` handler and reports acks and retries. */
export async function deliver(
	bodies: unknown[],
	options: { queue?: string; attempts?: number | number[]; ids?: string[]; env?: Env } = {},
): Promise<Delivery> {
	const ids = options.ids ?? bodies.map(() => `message-${++messages}`);
	const batch = createMessageBatch(
		options.queue ?? "deposits",
		bodies.map((body, i) => ({
			id: ids[i]!,
			timestamp: new Date(),
			attempts: Array.isArray(options.attempts) ? options.attempts[i]! : (options.attempts ?? 1),
			body,
		})),
	);
	// getQueueResult() does not report retry delays: record them on the way through.
	const delays = new Map<string, number | undefined>();
	const observed = {
		queue: batch.queue,
		metadata: batch.metadata,
		ackAll: () => batch.ackAll(),
		retryAll: (o?: QueueRetryOptions) => batch.retryAll(o),
		messages: batch.messages.map((m) => ({
			id: m.id,
			timestamp: m.timestamp,
			body: m.body,
			attempts: m.attempts,
			ack: () => m.ack(),
			retry(o?: QueueRetryOptions) {
				delays.set(m.id, o?.delaySeconds);
				m.retry(o);
			},
		})),
	} satisfies MessageBatch;
	const ctx = createExecutionContext();
	await worker.queue(observed, options.env ?? env);
	const result = await getQueueResult(batch, ctx);
	return {
		result,
		ids,
		acked: new Set(result.explicitAcks),
		retried: new Map(result.retryMessages.map((r) => [r.msgId, delays.get(r.msgId)])),
	};
}

interface DepositRow {
	status: string;
	confirmations: number | null;
	user_id: string | null;
	amount: string;
}

export async function depositRow(txId: string): Promise<DepositRow | undefined> {
	const rows = await sql().query(
		"SELECT status::text, confirmations, user_id, amount::text FROM deposits WHERE id = $1",
		[txId],
	);
	return rows[0] as DepositRow | undefined;
}

/** The user's deposit balance as an exact decimal string. */
export async function balance(userId: string): Promise<string> {
	const [row] = await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
		userId,
	]);
	return (row as { b: string }).b;
}

export async function ledgerRows(
	txId: string,
): Promise<{ tx_type: string; amount: string; user_id: string }[]> {
	return (await sql().query(
		"SELECT tx_type, amount::text, user_id FROM transactions WHERE related_id = $1 ORDER BY created_at, tx_type",
		[txId],
	)) as { tx_type: string; amount: string; user_id: string }[];
}

/** Asserts every ledger invariant; `accepted` are the tx_ids that must be accounted for. */
export function checkLedger(accepted: Iterable<string> = []): Promise<LedgerReport> {
	return assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: accepted });
}

/** The fault proxy in front of the test database (see ops/local/fault-proxy.ts). */
export const faults = {
	async set(settings: FaultSettings): Promise<void> {
		const res = await fetch(inject("faultProxy").control, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(settings),
		});
		if (!res.ok) throw new Error(`fault proxy refused the settings: ${await res.text()}`);
	},
	clear(): Promise<void> {
		return faults.set({ errorRate: 0, timeoutRate: 0, dropAfterCommitRate: 0 });
	},
	async stats(): Promise<FaultStats> {
		const res = await fetch(inject("faultProxy").control);
		return ((await res.json()) as { stats: FaultStats }).stats;
	},
	/** Waits until no request is held or forwarded late (a "timeout" may still commit). */
	async quiet(timeoutMs = 20_000): Promise<void> {
		const until = Date.now() + timeoutMs;
		while ((await faults.stats()).inFlight > 0) {
			if (Date.now() > until) throw new Error("the fault proxy still has requests in flight");
			await new Promise((r) => setTimeout(r, 50));
		}
	},
};
