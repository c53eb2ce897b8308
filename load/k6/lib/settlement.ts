/**
 * The end-of-run check: every deposit the run created must end up credited. Polls
 * `GET /api/v1/transactions/:tx_id` (admin token) for each deposit, recomputing the tx ids from
 * the deposit plan, until all are credited or the time is up, and records the outcome as
 * metrics so thresholds can fail the run.
 *
 * @module
 */
import { sleep } from "k6";
import crypto from "k6/crypto";
import http from "k6/http";
import { Counter, Rate, Trend } from "k6/metrics";
import type { DepositPlan } from "./deposit-plan.ts";
import { depositTxId } from "./uuid-v5.ts";

/** 1 for a deposit found credited by the end of the check, 0 otherwise. */
export const depositsSettled = new Rate("deposits_settled");
/** From the start of the check until the last deposit was seen credited. */
export const settleDrainMs = new Trend("settle_drain_ms", true);
/** Deposits in a state other than credited at the end (pending, unmatched, conflict, ...). */
export const depositsNotCredited = new Counter("deposits_not_credited");
/** Deposits the API did not know at all at the end: accepted and lost, or never sent. */
export const depositsMissing = new Counter("deposits_missing");

const sha1 = (bytes: ArrayBuffer) => crypto.sha1(bytes, "binary");

/** Which deposits to check: all of them, or `sample` spread evenly over the run. */
export function depositsToCheck(plan: DepositPlan, iterations: number, sample: number): number[] {
	const all: number[] = [];
	for (let i = 0; i < iterations; i++) if (plan.createsDeposit(i)) all.push(i);
	if (sample === 0 || all.length <= sample) return all;
	const step = all.length / sample;
	return Array.from({ length: sample }, (_, k) => all[Math.floor(k * step)] as number);
}

export interface SettlementCheck {
	baseUrl: string;
	adminToken: string;
	chain: string;
	timeoutSeconds: number;
}

/** Polls until every deposit is credited or the timeout passes; returns the unsettled ones. */
export function checkSettlement(plan: DepositPlan, deposits: number[], check: SettlementCheck) {
	const started = Date.now();
	const deadline = started + check.timeoutSeconds * 1000;
	const ids = new Map<number, string>(
		deposits.map((d) => [d, depositTxId(check.chain, plan.txHash(d), 0, sha1)]),
	);
	const params = {
		headers: { authorization: `Bearer ${check.adminToken}` },
		tags: { endpoint: "settlement" },
		// 404 is an answer here (not yet seen), not a failed request.
		responseCallback: http.expectedStatuses(200, 404),
	};
	let waiting = [...deposits];
	const last = new Map<number, string>();
	for (;;) {
		const still: number[] = [];
		for (let from = 0; from < waiting.length; from += 50) {
			const chunk = waiting.slice(from, from + 50);
			const responses = http.batch(
				chunk.map((d) => ["GET", `${check.baseUrl}/api/v1/transactions/${ids.get(d)}`, null, params]),
			);
			chunk.forEach((d, k) => {
				const res = responses[k];
				if (res?.status === 401 || res?.status === 403) {
					throw new Error(
						`the settlement check was refused (${res.status}): ADMIN_TOKEN must be a current admin access token (POST /api/v1/login)`,
					);
				}
				const status = res?.status === 200 ? String((res.json() as { status?: unknown }).status) : "missing";
				last.set(d, status);
				if (status !== "credited") still.push(d);
			});
		}
		waiting = still;
		if (waiting.length === 0 || Date.now() >= deadline) break;
		console.log(`settlement: ${deposits.length - waiting.length}/${deposits.length} credited, waiting …`);
		sleep(2);
	}
	settleDrainMs.add(Date.now() - started);
	for (const d of deposits) {
		const status = last.get(d);
		depositsSettled.add(status === "credited" ? 1 : 0);
		if (status === "missing") depositsMissing.add(1);
		else if (status !== "credited") depositsNotCredited.add(1);
	}
	return waiting.map((d) => ({ deposit: d, tx_id: ids.get(d), status: last.get(d) }));
}
