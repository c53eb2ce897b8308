/**
 * The scheduled re-check (the consumer's cron trigger): deposits the chain has more to say
 * about are looked up again, so a deposit is credited when it becomes final even if its
 * watcher never sends again, and a credit the chain takes back in a reorg is reversed.
 *
 * - pending: settled again with the chain's confirmations (credited at the threshold); gone
 *   from the chain after it was seen there, dropped (`reverted`); contradicted, held.
 * - credited, while inside the chain's reorg window: its confirmations updated; gone, or its
 *   block hash changed, reversed (the reversal path of settle-sql.ts). A credited deposit the
 *   chain now describes otherwise (another amount, token, recipient: a configuration change
 *   rather than a reorg) is left as it is and reported in the log and the metrics.
 * - an unreachable chain decides nothing; the next run asks again.
 *
 * Each run takes at most {@link RECHECK_LIMIT} deposits, least recently checked first, in one
 * database read, one batched request per chain and one settlement transaction.
 *
 * @module
 */

import { classifyDatabaseError } from "../../schema/database-errors";
import { CHAINS, type Chain } from "../../schema/queue-message";
import type { ChainVerificationConfig } from "./chain/chain-config";
import { type ChainCheckRow, type HoldRow, RECHECK_CANDIDATES, type RecheckCandidate } from "./chain-sql";
import { type ChainCheck, checkOnChain, confirmedRow, holdRow } from "./chain-stage";
import { type MessageMetric, recordBatch } from "./metrics";
import type { SettleContext } from "./settle";
import type { SettleRow } from "./settle-sql";
import { type RowOutcome, settleInOneRoundTrip } from "./settle-transaction";

/** Deposits looked at per run. */
const RECHECK_LIMIT = 100;

/** What a run did, per deposit outcome (also written as metrics, queue "recheck"). */
interface RecheckSummary {
	checked: number;
	outcomes: Partial<Record<RowOutcome | "chain_unavailable" | "unchanged" | "chain_disagrees", number>>;
}

/** One re-check run. Never throws for a chain or database failure: it logs, and the next run tries again. */
export async function recheckDeposits(
	context: SettleContext,
	limit = RECHECK_LIMIT,
): Promise<RecheckSummary> {
	const summary: RecheckSummary = { checked: 0, outcomes: {} };
	const chains = chainModeChains(context.chain);
	if (!chains.length) return summary;
	const started = performance.now();
	const count = (outcome: keyof RecheckSummary["outcomes"]) => {
		summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
	};
	const metrics: MessageMetric[] = [];
	let batchOutcome: "ok" | "db_error" = "ok";
	try {
		const candidates = (await context.sql.query(RECHECK_CANDIDATES, [JSON.stringify(chains), limit], {
			fetchOptions: { signal: AbortSignal.timeout(context.config.databaseTimeoutMs) },
		})) as RecheckCandidate[];
		summary.checked = candidates.length;
		if (!candidates.length) return summary;
		const runId = crypto.randomUUID();
		const rows = candidates.map((c, i) => candidateRow(c, i, runId, context));
		const checks = await checkOnChain(context.sql, context.chain, rows, context.config.databaseTimeoutMs);
		const settle: SettleRow[] = [];
		const blocks: ChainCheckRow[] = [];
		const holds: HoldRow[] = [];
		rows.forEach((row, i) => {
			const decision = decide(row, candidates[i]!, checks[i]!);
			if (decision.settle) settle.push(decision.settle);
			if (decision.block) blocks.push(decision.block);
			if (decision.hold) holds.push(decision.hold);
			if (decision.note) count(decision.note);
			if (decision.note && decision.note !== "unchanged") metrics.push(metric(decision.note, row));
		});
		const outcomes = await settleInOneRoundTrip(context.sql, settle, [], context.config.databaseTimeoutMs, {
			holds,
			blocks,
		});
		for (const [i, outcome] of outcomes) {
			count(outcome);
			metrics.push(metric(outcome, rows[i]!));
		}
	} catch (error) {
		batchOutcome = "db_error";
		console.error(`chain re-check failed, the next run tries again: ${classifyDatabaseError(error).message}`);
	}
	recordBatch(context.metrics, context.versionId, metrics, {
		outcome: batchOutcome,
		queue: "recheck",
		size: summary.checked,
		dbMs: performance.now() - started,
		retried: summary.outcomes.chain_unavailable ?? 0,
	});
	return summary;
}

function chainModeChains(config: ChainVerificationConfig | undefined) {
	if (!config) return [];
	return CHAINS.flatMap((chain: Chain) => {
		const settings = config.chains[chain];
		return settings.mode === "chain" ? [{ chain, reorg_window: settings.reorgWindow }] : [];
	});
}

/** A stored deposit as a settlement row: what the ledger holds, to be given the chain's figures. */
function candidateRow(c: RecheckCandidate, i: number, runId: string, context: SettleContext): SettleRow {
	return {
		i,
		message_id: `recheck:${runId}:${c.tx_id}`,
		attempts: 1,
		tx_id: c.tx_id,
		chain: c.chain,
		tx_hash: c.tx_hash,
		log_index: c.log_index,
		amount: c.amount,
		currency: c.currency,
		confirmations: c.confirmations,
		status: "pending",
		to_address: c.to_address,
		user_id: c.user_id,
		block_number: c.block_number,
		metadata: null,
		webhook_id: "chain-recheck",
		threshold: context.config.thresholds[c.chain as Chain],
		wallet_currency: context.config.walletCurrency,
		// the chain's own count stands behind it, never a sender's word
		sender_finality: false,
	};
}

interface Decision {
	settle?: SettleRow;
	block?: ChainCheckRow;
	hold?: HoldRow;
	/** An outcome decided here, without the database (nothing written). */
	note?: "chain_unavailable" | "unchanged" | "chain_disagrees";
}

function decide(row: SettleRow, candidate: RecheckCandidate, check: ChainCheck): Decision {
	if (check.status === "unavailable") return { note: "chain_unavailable" };
	if (check.status !== "verified") return { note: "unchanged" };
	const { verdict } = check;
	const removed: SettleRow = { ...row, status: "removed" };
	const seenBefore = candidate.block_hash !== null;
	const moved = seenBefore && verdict.found && verdict.blockHash !== candidate.block_hash;
	if (candidate.status === "credited") {
		if (!verdict.found || moved) return { settle: removed };
		if (!check.matches) {
			console.error(
				`credited deposit ${row.tx_id} disagrees with the chain (${verdict.mismatch}: ${verdict.detail}); left as it is, check the chain configuration`,
			);
			return { note: "chain_disagrees" };
		}
	} else if (!verdict.found && seenBefore) {
		return { settle: removed };
	} else if (!check.matches) {
		return { hold: holdRow(row, check) };
	}
	const settle = confirmedRow(row, verdict);
	return {
		settle,
		block: { tx_id: row.tx_id, block_number: verdict.blockNumber!, block_hash: verdict.blockHash! },
	};
}

function metric(outcome: MessageMetric["outcome"], row: SettleRow): MessageMetric {
	return {
		outcome,
		chain: row.chain,
		settleMs: 0,
		lagMs: 0,
		attempts: 1,
	};
}
