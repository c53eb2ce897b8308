/**
 * The local load run: the k6 scenario's traffic (same deposit plan: redeliveries, staged and
 * out-of-order confirmations) sent at an open-model rate to a running stack, then a bounded
 * wait until every deposit is credited, then the checks (each deposit credited once with its
 * exact amount; the ledger invariants) and the figures.
 *
 * Without a URL it starts its own stack (`startLocalStack`) on random ports, in temporary
 * folders, on a fresh database (embedded, or created on the given Postgres and dropped after),
 * and stops it at the end.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openLocalDatabase } from "../../ops/local/database";
import { startLocalStack } from "../../ops/local/stack";
import { signWebhook } from "../../ops/webhook-signing";
import { checkLedgerInvariants, type LedgerReport } from "../../schema/ledger-invariants";
import { type Delivery, DepositPlan, firstDeliveries } from "../k6/lib/deposit-plan";
import { depositTxId } from "../k6/lib/uuid-v5";
import { percentile, runOpenModel } from "../lib/open-model";
import type { Point } from "./chart";
import {
	checkExactlyOnce,
	connectLedger,
	createPlayers,
	creditTimes,
	type ExactlyOnce,
	type LedgerConnection,
	settledCount,
	storagePerDeposit,
} from "./ledger";

export interface LocalLoadOptions {
	/** A running edge Worker; without it, a stack is started for the run. */
	url?: string;
	/** The database that stack settles into (required with `url`). */
	databaseUrl?: string;
	/**
	 * With `url`: a Neon HTTP endpoint serving `databaseUrl` (`npm start`'s, for its embedded
	 * database); without it, one is started here in front of the Postgres at `databaseUrl`.
	 */
	neonEndpoint?: string;
	/** Without `url`: a Postgres server to create the run's fresh database on (else embedded). */
	postgresUrl?: string;
	/** Signing secret (`whsec_…`); with `url`, required. */
	webhookSecret?: string;
	webhooks: number;
	duplicateShare: number;
	stagedShare: number;
	/** Webhooks per second the generator starts (open model). */
	rate: number;
	maxInFlight: number;
	players: number;
	requestTimeoutMs: number;
	settleTimeoutMs: number;
	requiredConfirmations: number;
	/** Aborts the run (Ctrl-C): remaining webhooks are not sent, the wait ends, the stack stops. */
	signal?: AbortSignal;
	/** Phase changes and a line of text for each. */
	onPhase?: (phase: Phase, line: string) => void;
	/** Progress within the sending and settling phases. */
	onProgress?: (phase: "send" | "settle", done: number, total: number) => void;
}

export type Phase = "stack" | "players" | "send" | "settle" | "check" | "stop";

export interface LocalLoadResult {
	runId: string;
	target: string;
	webhooks: number;
	deposits: number;
	redeliveries: number;
	staged: number;
	/** Answers other than 2xx (or no answer) for webhooks; all were valid, so must be 0. */
	non2xx: number;
	statuses: Record<string, number>;
	/** 202 answers whose tx_id was not the one computed for the deposit. */
	wrongTxIds: number;
	sendSeconds: number;
	/** Accepted webhooks per second over the sending phase. */
	ingestPerSecond: number;
	ack: { p50: number; p95: number; p99: number; max: number };
	settled: boolean;
	settleWaitSeconds: number;
	settleLag: { p50: number; p99: number; max: number };
	/** Deposits credited per second, from the first 202 to the last credit. */
	settlePerSecond: number;
	exactlyOnce: ExactlyOnce;
	invariants: LedgerReport;
	storageBytesPerDeposit: number;
	/** For the chart: seconds since the first webhook. */
	ackPoints: Point[];
	settlePoints: Point[];
}

const sha1 = (bytes: ArrayBuffer) => {
	const d = createHash("sha1").update(new Uint8Array(bytes)).digest();
	return d.buffer.slice(d.byteOffset, d.byteOffset + d.byteLength);
};

interface Target {
	baseUrl: string;
	secret: string;
	ledger: LedgerConnection;
	stop(): Promise<void>;
}

/** Starts (or connects to) the stack the run goes against. */
async function openTarget(options: LocalLoadOptions, runId: string, phase: LocalLoadOptions["onPhase"]) {
	if (options.url) {
		if (!options.databaseUrl) {
			throw new Error(
				"--url needs --database-url: the run checks settlement and the ledger invariants in the database the stack settles into",
			);
		}
		if (!options.webhookSecret) throw new Error("--url needs the stack's signing secret in WEBHOOK_SECRETS");
		const ledger = await connectLedger(options.databaseUrl, options.neonEndpoint);
		return {
			baseUrl: options.url.replace(/\/+$/, ""),
			secret: options.webhookSecret,
			ledger,
			stop: () => ledger.close(),
		} satisfies Target;
	}
	const scratch = mkdtempSync(join(tmpdir(), "cricalgo-load-"));
	const cleanups: (() => Promise<void>)[] = [async () => rmSync(scratch, { recursive: true, force: true })];
	const stop = async () => {
		for (const fn of cleanups.reverse()) await fn().catch(() => {});
	};
	try {
		let databaseUrl: string | undefined;
		if (options.postgresUrl) {
			const name = `cricalgo_load_${runId}`;
			const fresh = await openLocalDatabase({ url: options.postgresUrl, databases: [name], create: true });
			cleanups.push(() => fresh.dropCreated());
			databaseUrl = fresh.connectionString(name);
		}
		phase?.(
			"stack",
			`starting a stack: ${databaseUrl ? "a fresh database on Postgres" : "embedded Postgres"}, wrangler dev on a free port …`,
		);
		const stack = await startLocalStack({
			edgePort: 0,
			neonPort: 0,
			chainPort: 0,
			// The load's webhooks are synthetic: no transfer behind them to verify.
			chainVerification: "sender",
			databaseUrl,
			dataDir: join(scratch, "pglite"),
			persistTo: join(scratch, "wrangler-state"),
			webhookSecrets: options.webhookSecret,
		});
		cleanups.push(() => stack.stop());
		const ledger = await connectLedger(stack.databaseUrl, stack.neonEndpoint);
		cleanups.push(() => ledger.close());
		return { baseUrl: stack.baseUrl, secret: stack.webhookSecret, ledger, stop } satisfies Target;
	} catch (error) {
		await stop();
		throw error;
	}
}

/** Nearest-rank percentiles of unsorted values. */
function summary(values: number[]) {
	const sorted = [...values].sort((a, b) => a - b);
	return {
		p50: percentile(sorted, 50),
		p95: percentile(sorted, 95),
		p99: percentile(sorted, 99),
		max: sorted[sorted.length - 1] ?? 0,
	};
}

/** The webhooks of the run, from the k6 scenario's deposit plan, and each deposit's tx_id. */
function planDeliveries(options: LocalLoadOptions, runId: string, players: string[]) {
	const plan = new DepositPlan({
		runId,
		chain: "bep20",
		userIds: players,
		duplicateShare: options.duplicateShare,
		stagedShare: options.stagedShare,
		requiredConfirmations: options.requiredConfirmations,
	});
	const deliveries = firstDeliveries(plan, options.webhooks);
	const depositNumbers = [...new Set(deliveries.map((d) => d.deposit))];
	const txIdOf = new Map(depositNumbers.map((n) => [n, depositTxId("bep20", plan.txHash(n), 0, sha1)]));
	return { plan, deliveries, depositNumbers, txIdOf };
}

type Planned = ReturnType<typeof planDeliveries>;

/**
 * Sends every webhook at the open-model rate: when each got its 202 (`ackedAt`), and how many
 * named a wrong tx_id. Both fill in as answers arrive, a late one after the generator's timeout
 * too, so they are read at the end of the run.
 */
async function sendAll(options: LocalLoadOptions, target: Target, { deliveries, txIdOf }: Planned) {
	const ackedAt = new Array<number>(deliveries.length).fill(0);
	const tally = { wrongTxIds: 0 };
	const send = async (i: number) => {
		options.signal?.throwIfAborted();
		const delivery = deliveries[i] as Delivery;
		const { headers, body } = signWebhook(target.secret, delivery.body, { id: delivery.webhookId });
		const res = await fetch(`${target.baseUrl}/api/v1/webhooks/bep20`, {
			method: "POST",
			headers,
			body,
			signal: AbortSignal.any([
				AbortSignal.timeout(options.requestTimeoutMs),
				...(options.signal ? [options.signal] : []),
			]),
		});
		if (res.status !== 202) {
			await res.body?.cancel();
			return { status: res.status };
		}
		// A 202 counts once its body is read: an answer cut off by the timeout is no answer.
		const answer = (await res.json()) as { tx_id?: unknown };
		ackedAt[i] = Date.now();
		if (answer.tx_id !== txIdOf.get(delivery.deposit)) tally.wrongTxIds++;
		return { status: res.status };
	};
	// The generator times each request from its scheduled start, in ms after it began.
	const t0 = Date.now();
	const run = await runOpenModel(send, {
		rate: options.rate,
		total: deliveries.length,
		maxInFlight: options.maxInFlight,
		timeoutMs: options.requestTimeoutMs,
		onProgress: (done, total) => options.onProgress?.("send", done, total),
	});
	options.signal?.throwIfAborted();
	return { run, t0, ackedAt, tally };
}

type Sent = Awaited<ReturnType<typeof sendAll>>;

/** How many webhooks got each answer, with failures sorted by what went wrong. */
function countStatuses(results: Sent["run"]["results"]): Record<string, number> {
	const statuses: Record<string, number> = {};
	for (const r of results) {
		const key = !r.error
			? String(r.status)
			: r.error.startsWith("dropped")
				? "dropped (too many in flight)"
				: /within|timeout|timed out|abort/i.test(r.error)
					? "timed out"
					: "no answer";
		statuses[key] = (statuses[key] ?? 0) + 1;
	}
	return statuses;
}

/**
 * A deposit is accepted once a webhook that credits it got its 202; its settle lag runs from
 * the first such 202. Only accepted deposits must be credited: for the others the sender got
 * no 2xx and would retry.
 */
function firstCreditingAcks(deliveries: Delivery[], ackedAt: number[]): Map<number, number> {
	const firstCreditingAck = new Map<number, number>();
	deliveries.forEach((d, i) => {
		const acked = ackedAt[i] as number;
		if (d.kind === "low" || !acked) return;
		const seen = firstCreditingAck.get(d.deposit);
		if (seen === undefined || acked < seen) firstCreditingAck.set(d.deposit, acked);
	});
	return firstCreditingAck;
}

/** Polls the ledger until every accepted deposit is credited, or the settle timeout passes. */
async function waitForCredits(options: LocalLoadOptions, query: LedgerConnection["query"], txIds: string[]) {
	const settleStarted = Date.now();
	let settled = false;
	for (;;) {
		const { credited } = await settledCount(query, txIds);
		options.onProgress?.("settle", credited, txIds.length);
		if (credited === txIds.length) {
			settled = true;
			break;
		}
		if (Date.now() - settleStarted > options.settleTimeoutMs) break;
		options.signal?.throwIfAborted();
		await new Promise((r) => setTimeout(r, 500));
	}
	return { settled, settleWaitSeconds: (Date.now() - settleStarted) / 1000 };
}

/** Each credited deposit's lag from its first crediting 202, and the chart's points of them. */
function settleLags(
	planned: Planned,
	credits: Map<string, number>,
	firstCreditingAck: Map<number, number>,
	t0: number,
) {
	const settlePoints: Point[] = [];
	const lags: number[] = [];
	for (const n of planned.depositNumbers) {
		const creditedAt = credits.get(planned.txIdOf.get(n) as string);
		const acked = firstCreditingAck.get(n);
		if (creditedAt === undefined || acked === undefined) continue;
		// Same machine, same clock; the consumer may commit before Node has read the 202.
		const lag = Math.max(0, creditedAt - acked);
		lags.push(lag);
		settlePoints.push({ t: (creditedAt - t0) / 1000, ms: lag });
	}
	return { lags, settlePoints };
}

/** Runs the whole load run; the stack it started is stopped whatever happens. */
export async function runLocalLoad(options: LocalLoadOptions): Promise<LocalLoadResult> {
	const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
	const phase = options.onPhase;
	const target = await openTarget(options, runId, phase);
	try {
		const { query } = target.ledger;
		phase?.("players", `creating ${options.players} players with empty wallets …`);
		const players = await createPlayers(query, runId, options.players);
		const planned = planDeliveries(options, runId, players);
		const { plan, deliveries, depositNumbers, txIdOf } = planned;

		phase?.(
			"send",
			`sending ${deliveries.length} webhooks at ${options.rate}/s to ${target.baseUrl} (${depositNumbers.length} deposits) …`,
		);
		const { run, t0, ackedAt, tally } = await sendAll(options, target, planned);
		const accepted = run.results.filter((r) => r.status >= 200 && r.status < 300 && !r.error);

		const firstCreditingAck = firstCreditingAcks(deliveries, ackedAt);
		const acceptedTxIds = [...firstCreditingAck.keys()].map((n) => txIdOf.get(n) as string);
		phase?.(
			"settle",
			`waiting (at most ${options.settleTimeoutMs / 1000} s) until all ${acceptedTxIds.length} accepted deposits are credited …`,
		);
		const { settled, settleWaitSeconds } = await waitForCredits(options, query, acceptedTxIds);

		phase?.("check", "checking every deposit was credited once, and the ledger invariants …");
		const credits = await creditTimes(
			query,
			depositNumbers.map((n) => txIdOf.get(n) as string),
		);
		const { lags, settlePoints } = settleLags(planned, credits, firstCreditingAck, t0);
		const lastCredit = Math.max(0, ...credits.values());
		const exactlyOnce = await checkExactlyOnce(
			query,
			depositNumbers.map((n) => ({
				txId: txIdOf.get(n) as string,
				amount: plan.amount(n),
				accepted: firstCreditingAck.has(n),
			})),
			players,
		);
		const invariants = await checkLedgerInvariants(query, {
			acceptedTxIds: deliveries.flatMap((d, i) => (ackedAt[i] ? [txIdOf.get(d.deposit) as string] : [])),
		});
		const storageBytes = await storagePerDeposit(query);

		const lagSummary = summary(lags);
		return {
			runId,
			target: target.baseUrl,
			webhooks: deliveries.length,
			deposits: depositNumbers.length,
			redeliveries: deliveries.filter((d) => d.kind === "network-retry" || d.kind === "watcher-retry").length,
			staged: deliveries.filter((d) => d.kind === "low").length,
			non2xx: deliveries.length - accepted.length,
			statuses: countStatuses(run.results),
			wrongTxIds: tally.wrongTxIds,
			sendSeconds: run.durationMs / 1000,
			ingestPerSecond: accepted.length / (run.durationMs / 1000),
			ack: summary(accepted.map((r) => r.latencyMs)),
			settled,
			settleWaitSeconds,
			settleLag: { p50: lagSummary.p50, p99: lagSummary.p99, max: lagSummary.max },
			settlePerSecond: credits.size / Math.max(0.001, (lastCredit - t0) / 1000),
			exactlyOnce,
			invariants,
			storageBytesPerDeposit: storageBytes,
			ackPoints: accepted.map((r) => ({ t: r.startedAt / 1000, ms: r.latencyMs })),
			settlePoints,
		};
	} finally {
		phase?.("stop", "stopping …");
		await target.stop();
	}
}
