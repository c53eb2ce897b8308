/**
 * Signed deposit webhooks sent by several concurrent senders until told to stop, each a new
 * deposit of 1.5 USDT for one player with 12 confirmations, as the watcher sends them. Keeps
 * what a sender would: every `tx_id` answered 202, every status seen, and the Retry-After of
 * each 503.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { signWebhook } from "../../webhook-signing";

interface LoadResult {
	/** tx_ids answered 202. */
	accepted: string[];
	/** How many answers of each status; 0 stands for "no answer" (connection refused or reset). */
	statuses: Record<number, number>;
	/** Retry-After values of the 503 answers. */
	retryAfter: string[];
}

export interface Load {
	/** Resolves with the result once every sender has finished its request under way. */
	stop(): Promise<LoadResult>;
	/** tx_ids answered 202 so far. */
	readonly acceptedSoFar: number;
}

export const DEPOSIT_AMOUNT = "1.5";

export function startWebhookLoad(
	baseUrl: () => string,
	secret: string,
	userId: string,
	options: { senders?: number; pauseMs?: number } = {},
): Load {
	const result: LoadResult = { accepted: [], statuses: {}, retryAfter: [] };
	let running = true;
	const sender = async () => {
		while (running) {
			const { headers, body } = signWebhook(secret, {
				tx_hash: `0x${randomBytes(32).toString("hex")}`,
				amount: DEPOSIT_AMOUNT,
				confirmations: 12,
				chain: "bep20",
				currency: "USDT",
				user_id: userId,
			});
			let status = 0;
			try {
				const res = await fetch(`${baseUrl()}/api/v1/webhooks/bep20`, {
					method: "POST",
					headers,
					body,
					signal: AbortSignal.timeout(10_000),
				});
				status = res.status;
				const answer = (await res.json()) as { tx_id?: string };
				if (status === 202 && answer.tx_id) result.accepted.push(answer.tx_id);
				if (status === 503) result.retryAfter.push(res.headers.get("retry-after") ?? "");
			} catch {
				status = 0;
			}
			result.statuses[status] = (result.statuses[status] ?? 0) + 1;
			if (status === 0) await new Promise((r) => setTimeout(r, 100));
			if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
		}
	};
	const senders = Array.from({ length: options.senders ?? 8 }, sender);
	return {
		get acceptedSoFar() {
			return result.accepted.length;
		},
		async stop() {
			running = false;
			await Promise.all(senders);
			return result;
		},
	};
}
