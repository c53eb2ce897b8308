/**
 * The figures of a local load run as readable lines, for the terminal and for the chart.
 *
 * @module
 */
import type { LocalLoadOptions, LocalLoadResult } from "./run";

const ms = (v: number) => (Number.isFinite(v) ? `${v < 10 ? v.toFixed(1) : Math.round(v)} ms` : "-");

/** True when the run did what it must: everything accepted, settled once, invariants hold. */
export function runPassed(r: LocalLoadResult): boolean {
	return r.non2xx === 0 && r.wrongTxIds === 0 && r.settled && r.exactlyOnce.ok && r.invariants.ok;
}

export function formatFigures(r: LocalLoadResult, o: LocalLoadOptions): string[] {
	const e = r.exactlyOnce;
	const statuses = Object.entries(r.statuses)
		.map(([s, n]) => `${s} ×${n}`)
		.join(", ");
	return [
		`target              ${r.target} (run ${r.runId})`,
		`webhooks            ${r.webhooks} (${r.redeliveries} redeliveries = ${((r.redeliveries / r.webhooks) * 100).toFixed(1)} %, ${r.staged} low-confirmation webhooks of staged deposits) for ${r.deposits} deposits to ${o.players} players`,
		`offered rate        ${o.rate}/s open model, at most ${o.maxInFlight} in flight`,
		`answers             ${statuses}; non-2xx ${r.non2xx}${r.wrongTxIds ? `; WRONG tx_id ${r.wrongTxIds}` : ""}`,
		`ingest throughput   ${r.ingestPerSecond.toFixed(0)} webhooks/s accepted (${r.sendSeconds.toFixed(1)} s)`,
		`ack latency         p50 ${ms(r.ack.p50)}  p95 ${ms(r.ack.p95)}  p99 ${ms(r.ack.p99)}  max ${ms(r.ack.max)}`,
		`settled             ${r.settled ? "all" : "NOT ALL"} ${e.credited}/${e.accepted} accepted deposits credited, ${r.settleWaitSeconds.toFixed(1)} s after the last webhook; ${r.settlePerSecond.toFixed(0)} deposits/s`,
		`settle lag          p50 ${ms(r.settleLag.p50)}  p99 ${ms(r.settleLag.p99)}  max ${ms(r.settleLag.max)} (202 of the crediting webhook → credited_at)`,
		`exactly once        ${e.ok ? "yes" : "NO"}: ${e.creditRows} credit rows for ${e.credited} credited of ${e.accepted} accepted deposits (${e.deposits} planned); ${e.acceptedNotCredited} accepted but not credited, ${e.creditedTwice} credited twice, ${e.wrongAmount} with a wrong amount`,
		`amounts             credited ${e.creditedTotal} for accepted deposits worth ${e.acceptedTotal}; the players' wallets hold ${e.walletTotal}`,
		`ledger invariants   ${r.invariants.ok ? "hold" : `VIOLATED: ${r.invariants.violations.map((v) => `[${v.invariant}] ${v.detail}`).join("; ")}`}`,
		`storage             ${Math.round(r.storageBytesPerDeposit)} bytes per deposit (deposits + ledger tables with indexes)`,
		`result              ${runPassed(r) ? "PASS" : "FAIL"}`,
	];
}
