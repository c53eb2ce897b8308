/**
 * The end-of-run settlement check, run as VU code in a scenario of its own after the load
 * (teardown() may not read k6/execution's counters). It
 *
 * 1. waits for the load's last iterations to finish and counts them: iterations are numbered
 *    from 0 in the order they started (k6 gives a number only to an iteration that runs), so
 *    the deterministic deposit plan says exactly which deposits the run sent, to whom, for how
 *    much;
 * 2. logs in as each of the run's players (fresh tokens: the check's credentials never outlive
 *    it, however long the run was) and reads their ledgers (`GET /api/v1/transactions`) until
 *    every deposit has its credit or `SETTLE_TIMEOUT` passes, then once more after a short
 *    grace, with their wallets;
 * 3. judges (lib/settlement-verdict.ts) and records the verdict as metrics the thresholds read.
 *
 * The drain time is from the end of the load (the last webhook answered) to the last credit's
 * `created_at` in the ledger: the database's clock against this machine's, so a skew between
 * them shows in it.
 *
 * @module
 */
import { sleep } from "k6";
import crypto from "k6/crypto";
import exec from "k6/execution";
import http, { type RefinedResponse } from "k6/http";
import { Counter, Gauge, Rate, Trend } from "k6/metrics";
import type { DepositPlan } from "./deposit-plan.ts";
import { logIn, type Player } from "./players.ts";
import { SETTLEMENT_METRICS } from "./scenarios.ts";
import {
	describeVerdict,
	type ExpectedDeposit,
	judgeSettlement,
	type LedgerRow,
	type PlayerBooks,
} from "./settlement-verdict.ts";
import { depositTxId } from "./uuid-v5.ts";

/** 1 when every deposit of the run is credited exactly once and the wallets agree; else 0. */
const settlementVerdict = new Gauge(SETTLEMENT_METRICS.verdict);
/** Deposits the check verified (all the run sent). */
const depositsChecked = new Counter(SETTLEMENT_METRICS.checked);
/** Per deposit: 1 when credited exactly once, with its amount, to its player. */
const depositsSettled = new Rate(SETTLEMENT_METRICS.settled);
/** From the end of the load to the last credit (or to the end of the wait, when some never came). */
const settleDrainMs = new Trend(SETTLEMENT_METRICS.drain, true);
const depositsNotCredited = new Counter("deposits_not_credited");
const depositsCreditedTwice = new Counter("deposits_credited_twice");
const depositsMiscredited = new Counter("deposits_miscredited");
const walletsMismatched = new Counter("wallets_mismatched");

const sha1 = (bytes: ArrayBuffer) => crypto.sha1(bytes, "binary");

/** Time a credit may still take to appear after the last one seen (a queue batch or two). */
const GRACE_SECONDS = 3;
/** Access tokens last 15 minutes; a check that reads for longer logs in again. */
const RELOGIN_AFTER_MS = 10 * 60 * 1000;

interface SettlementCheck {
	baseUrl: string;
	key: ArrayBuffer;
	chain: string;
	plan: DepositPlan;
	players: Player[];
	/** The players existed before the run (an earlier run with the same RUN_ID credited them). */
	existed: boolean;
	timeoutSeconds: number;
	/** How long the load's last iterations may still run (its graceful stop), seconds. */
	loadGraceSeconds: number;
}

/**
 * Waits until the load's VUs are done (only this one is active) and counts the iterations that
 * ran. Returns when the load ended: this scenario's start, or when the last VU went idle.
 */
function waitForLoadEnd(graceSeconds: number): { endedAt: number; iterations: number } {
	const segment = exec.test.options.executionSegment;
	if (segment && segment !== "0:1") {
		throw new Error(
			`this instance runs execution segment ${segment} of a distributed test; the settlement check needs the whole run in one k6 instance (k6 run)`,
		);
	}
	const counted = () => exec.instance.iterationsCompleted + exec.instance.iterationsInterrupted;
	const deadline = Date.now() + (graceSeconds + 30) * 1000;
	let endedAt = Math.max(exec.scenario.startTime, 0);
	let quiet = 0;
	let last = counted();
	while (quiet < 2) {
		if (Date.now() > deadline) {
			throw new Error(
				`the load's VUs were still active ${graceSeconds + 30} s after its schedule ended: the settlement check cannot count what was sent`,
			);
		}
		const now = counted();
		if (exec.instance.vusActive <= 1 && now === last) {
			quiet++;
		} else {
			quiet = 0;
			endedAt = Date.now();
		}
		last = now;
		sleep(0.1);
	}
	return { endedAt, iterations: last };
}

/** Every deposit iterations 0 … n-1 created, with its tx_id, player and amount. */
function expectedDeposits(check: SettlementCheck, iterations: number): ExpectedDeposit[] {
	const index = new Map(check.players.map((p, k) => [p.id, k]));
	const out: ExpectedDeposit[] = [];
	for (let i = 0; i < iterations; i++) {
		if (!check.plan.createsDeposit(i)) continue;
		out.push({
			deposit: i,
			txId: depositTxId(check.chain, check.plan.txHash(i), 0, sha1),
			player: index.get(check.plan.userId(i)) as number,
			amount: check.plan.amount(i),
		});
	}
	return out;
}

interface Session {
	player: Player;
	token: string;
	since: number;
}

function params(session: Session, expected: number[] = [200]) {
	return {
		headers: { authorization: `Bearer ${session.token}` },
		tags: { endpoint: "settlement" },
		responseCallback: http.expectedStatuses(...expected),
	};
}

function body<T>(res: RefinedResponse<"text"> | undefined, what: string): T {
	if (res?.status !== 200) {
		throw new Error(
			`the settlement check could not read ${what}: ${res?.status} ${String(res?.body).slice(0, 300)}`,
		);
	}
	return res.json() as T;
}

/** Each session's whole ledger (every page, all sessions at once) and wallet. */
function readBooks(check: SettlementCheck, sessions: Session[]): PlayerBooks[] {
	for (const s of sessions) {
		if (Date.now() - s.since > RELOGIN_AFTER_MS) {
			s.token = logIn(check.baseUrl, check.key, s.player.username);
			s.since = Date.now();
		}
	}
	const rows: LedgerRow[][] = sessions.map(() => []);
	let cursors: (string | null)[] = sessions.map(() => "");
	let pages = 0;
	while (cursors.some((c) => c !== null)) {
		const open = cursors.flatMap((c, k) => (c === null ? [] : [k]));
		const responses = http.batch(
			open.map((k) => {
				const cursor = cursors[k] ? `&cursor=${encodeURIComponent(cursors[k] as string)}` : "";
				return [
					"GET",
					`${check.baseUrl}/api/v1/transactions?limit=100${cursor}`,
					null,
					params(sessions[k] as Session),
				];
			}),
		);
		pages++;
		if (pages % 50 === 0) {
			console.log(
				`settlement: reading the players' ledgers, ${rows.reduce((n, r) => n + r.length, 0)} rows so far …`,
			);
		}
		const next = [...cursors];
		open.forEach((k, j) => {
			const page = body<{ items: LedgerRow[]; next_cursor: string | null }>(
				responses[j] as RefinedResponse<"text">,
				`${sessions[k]?.player.username}'s ledger`,
			);
			rows[k]?.push(...page.items);
			next[k] = page.next_cursor;
		});
		cursors = next;
	}
	const wallets = http.batch(
		sessions.map((s) => ["GET", `${check.baseUrl}/api/v1/wallet`, null, params(s)] as const),
	);
	return sessions.map((s, k) => ({
		username: s.player.username,
		rows: rows[k] as LedgerRow[],
		depositBalance: body<{ deposit_balance: string }>(
			wallets[k] as RefinedResponse<"text">,
			`${s.player.username}'s wallet`,
		).deposit_balance,
	}));
}

/** What the API says of a few deposits that were not credited: pending, conflict, unknown, … */
function diagnose(
	check: SettlementCheck,
	sessions: Session[],
	expected: ExpectedDeposit[],
	deposits: number[],
) {
	const byDeposit = new Map(expected.map((e) => [e.deposit, e]));
	const sample = deposits.slice(0, 5).map((d) => byDeposit.get(d) as ExpectedDeposit);
	const responses = http.batch(
		sample.map(
			(e) =>
				[
					"GET",
					`${check.baseUrl}/api/v1/transactions/${e.txId}`,
					null,
					params(sessions[e.player] as Session, [200, 404]),
				] as const,
		),
	);
	return sample
		.map((e, k) => {
			const res = responses[k];
			if (res?.status === 404) return `deposit ${e.deposit} (tx_id ${e.txId}): unknown to the API`;
			const doc = res?.status === 200 ? (res.json() as Record<string, unknown>) : {};
			const detail =
				doc.status === "pending" ? `, ${doc.confirmations}/${doc.required_confirmations} confirmations` : "";
			return `deposit ${e.deposit} (tx_id ${e.txId}): ${String(doc.status ?? res?.status)}${detail}`;
		})
		.join("; ");
}

/** Runs the whole check and records its metrics. */
export function checkSettlement(check: SettlementCheck): void {
	const { endedAt, iterations } = waitForLoadEnd(check.loadGraceSeconds);
	const expected = expectedDeposits(check, iterations);
	console.log(
		`settlement: ${iterations} iterations sent ${expected.length} deposits to ${check.players.length} players; waiting up to ${check.timeoutSeconds} s for every one to be credited …`,
	);
	const sessions: Session[] = check.players.map((player) => ({
		player,
		token: logIn(check.baseUrl, check.key, player.username),
		since: Date.now(),
	}));

	const deadline = endedAt + check.timeoutSeconds * 1000;
	let waiting = sessions.map((_, k) => k);
	for (;;) {
		const books = readBooks(
			check,
			waiting.map((k) => sessions[k] as Session),
		);
		const credited = new Set(
			books.flatMap((b) => b.rows.filter((r) => r.type === "deposit").map((r) => r.related_id)),
		);
		const missing = expected.filter((e) => waiting.includes(e.player) && !credited.has(e.txId));
		waiting = [...new Set(missing.map((e) => e.player))];
		if (waiting.length === 0 || Date.now() >= deadline) break;
		console.log(
			`settlement: ${expected.length - missing.length}/${expected.length} deposits credited, ${Math.round((Date.now() - endedAt) / 1000)} s after the load ended; waiting …`,
		);
		sleep(2);
	}
	// Late deliveries (a redelivery still in the queue) get their chance to show a double credit.
	sleep(GRACE_SECONDS);
	const verdict = judgeSettlement(expected, readBooks(check, sessions), check.existed);

	depositsChecked.add(expected.length);
	for (const e of expected) depositsSettled.add(verdict.settled.has(e.deposit));
	depositsNotCredited.add(verdict.notCredited.length);
	depositsCreditedTwice.add(verdict.creditedTwice.length);
	depositsMiscredited.add(verdict.wrongAmount.length + verdict.wrongPlayer.length + verdict.reversed.length);
	walletsMismatched.add(verdict.walletsMismatched.length);
	const drained = verdict.notCredited.length === 0 && verdict.lastCreditAt !== null;
	settleDrainMs.add(drained ? Math.max(0, (verdict.lastCreditAt as number) - endedAt) : Date.now() - endedAt);
	settlementVerdict.add(verdict.ok ? 1 : 0);

	const lines = describeVerdict(
		verdict,
		(deposits) => diagnose(check, sessions, expected, deposits),
		check.existed,
	);
	if (drained) {
		lines.push(
			`last credit ${Math.round(Math.max(0, (verdict.lastCreditAt as number) - endedAt))} ms after the load ended`,
		);
	}
	if (verdict.ok) console.log(`settlement PASS: ${lines.join("; ")}`);
	else console.error(`settlement FAIL: ${lines.join("; ")}`);
}
