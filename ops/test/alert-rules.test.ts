/**
 * The alert rules themselves (shared/alerts/rules.ts) against the original's rule file, and the
 * evaluator's `for` semantics (shared/alerts/evaluate.ts) with figures given directly.
 */
import { describe, expect, it } from "vitest";
import { evaluateRules, evaluationTime, type FigureSource } from "../../shared/alerts/evaluate";
import { toPrometheusText } from "../../shared/alerts/prometheus";
import { RULES } from "../../shared/alerts/rules";
import { type AlertTarget, type Figures, SIGNALS } from "../../shared/alerts/signals";

describe("the rules", () => {
	it("are the original's fifteen, with its thresholds, `for` windows and severities", () => {
		// From monitoring/prometheus/alerts/cricalgo_alerts.yaml of the original platform
		// (seconds there, milliseconds here).
		const originals = RULES.filter((r) => r.original);
		expect(
			originals.map((r) => [r.original!.name, r.threshold, r.original!.for, r.forMinutes, r.severity]),
		).toEqual([
			["HTTPHighP95", 2000, "5m", 5, "warning"],
			["HTTPHighP99", 5000, "3m", 3, "critical"],
			["HTTPHighAvg", 1000, "5m", 5, "warning"],
			["HighErrorRate", 0.005, "2m", 2, "critical"],
			["ModerateErrorRate", 0.001, "5m", 5, "warning"],
			["CeleryQueueDepthHigh", 50, "5m", 5, "warning"],
			["CeleryQueueDepthCritical", 200, "2m", 2, "critical"],
			["DatabasePoolExhausted", 0.9, "3m", 3, "warning"],
			["DatabasePoolCritical", 0.95, "1m", 1, "critical"],
			["WebhookProcessingSlow", 1000, "5m", 5, "warning"],
			["WebhookEnqueueFailed", 0.1, "2m", 2, "critical"],
			["DepositTaskSlow", 30_000, "5m", 5, "warning"],
			["DepositTaskFailed", 0.05, "3m", 3, "critical"],
			["HighCPUUsage", 0.8, "5m", 5, "warning"],
			["HighMemoryUsage", 0, "5m", 5, "warning"],
		]);
		expect(new Set(originals.map((r) => r.name)).size).toBe(15);
		expect(new Set(RULES.map((r) => r.name)).size).toBe(RULES.length);
		expect(RULES.every((r) => r.windowMinutes === 5)).toBe(true);
	});

	it("add LoginAccountLocked, which fires as soon as one login was refused for a locked account", async () => {
		const rule = RULES.filter((r) => r.name === "LoginAccountLocked");
		const figures =
			(locked: number): FigureSource =>
			async () => ({ accountLocked: locked, requests: 100 });
		expect((await evaluateRules(rule, figures(0), T))[0]).toMatchObject({ state: "ok" });
		expect((await evaluateRules(rule, figures(3), T))[0]).toMatchObject({ state: "firing", value: 3 });
	});

	it("add DeadLetterLastNet, firing on one message in the last net, and DeadLetterQueueBacklog after ten minutes", async () => {
		const lastNet = RULES.filter((r) => r.name === "DeadLetterLastNet");
		const written =
			(n: number): FigureSource =>
			async () => ({ lastNetMessages: n, messages: 10 });
		expect((await evaluateRules(lastNet, written(0), T))[0]).toMatchObject({ state: "ok" });
		expect((await evaluateRules(lastNet, written(1), T))[0]).toMatchObject({ state: "firing", value: 1 });
		expect(lastNet[0]).toMatchObject({ severity: "critical", forMinutes: 0 });

		const backlog = RULES.filter((r) => r.name === "DeadLetterQueueBacklog");
		// Waiting since 4 minutes ago: pending, not yet firing; waiting for 10 and more: firing.
		const waitingFor =
			(minutes: number): FigureSource =>
			async (_signal, _window, at) => ({
				deadLetterBacklogMessages: (T.getTime() - at.getTime()) / MINUTE <= minutes ? 7 : 0,
				backlogMessages: 0,
			});
		expect((await evaluateRules(backlog, waitingFor(4), T))[0]).toMatchObject({ state: "pending" });
		expect((await evaluateRules(backlog, waitingFor(12), T))[0]).toMatchObject({ state: "firing", value: 7 });
	});

	it("add DepositChainMismatch, firing at the first deposit the chain contradicts, and ChainRpcUnavailable after 3 minutes", async () => {
		const mismatch = RULES.filter((r) => r.name === "DepositChainMismatch");
		const held =
			(n: number): FigureSource =>
			async () => ({ chainMismatches: n, messages: 100 });
		expect((await evaluateRules(mismatch, held(0), T))[0]).toMatchObject({ state: "ok" });
		expect((await evaluateRules(mismatch, held(1), T))[0]).toMatchObject({ state: "firing", value: 1 });

		const unavailable = RULES.filter((r) => r.name === "ChainRpcUnavailable");
		const down =
			(minutes: number): FigureSource =>
			async (_signal, _window, at) => ({
				chainUnavailablePerSecond: (T.getTime() - at.getTime()) / MINUTE < minutes ? 0.2 : 0,
				messages: 100,
			});
		expect((await evaluateRules(unavailable, down(2), T))[0]).toMatchObject({ state: "pending" });
		expect((await evaluateRules(unavailable, down(4), T))[0]).toMatchObject({ state: "firing", value: 0.2 });
	});

	it("add WebhookRefusalSpike: more than 20 refusals of one source for 2 minutes fire, the same spread over sources does not", async () => {
		const rule = RULES.filter((r) => r.name === "WebhookRefusalSpike");
		const target: AlertTarget = {
			environment: "test",
			dataset: "cricalgo_edge_test",
			edgeScript: "edge",
			apiScript: "api",
			consumerScript: "consumer",
			queue: "deposits",
			dbCapacity: 20,
			cpuBudgetMs: 50,
		};
		// The refusals query's rows (source, status, reason, refused), read through the real signal.
		const refused =
			(rows: Record<string, string | number>[], sinceMinutes = 99): FigureSource =>
			(_signal, _window, at) =>
				SIGNALS.refusals.read(
					{
						accountId: "a",
						sql: async () => ((T.getTime() - at.getTime()) / MINUTE <= sinceMinutes ? rows : []),
						graphql: async () => {
							throw new Error("not asked");
						},
						queueId: async () => "q",
						currentTraffic: async () => [],
					},
					target,
					{ from: new Date(at.getTime() - 5 * MINUTE), to: at },
				);
		const rotationGoneWrong = [
			{ source: "original", status: 401, reason: "signature_mismatch", refused: "18" },
			{ source: "original", status: 401, reason: "timestamp_out_of_tolerance", refused: "7" },
		];
		expect((await evaluateRules(rule, refused(rotationGoneWrong), T))[0]).toMatchObject({
			state: "firing",
			value: 25,
		});
		expect((await evaluateRules(rule, refused(rotationGoneWrong, 1), T))[0]).toMatchObject({
			state: "pending",
		});
		const spread = [
			{ source: "original", status: 401, reason: "signature_mismatch", refused: "15" },
			{ source: "moralis", status: 422, reason: "validation_failed", refused: "15" },
		];
		expect((await evaluateRules(rule, refused(spread), T))[0]).toMatchObject({ state: "ok", value: 15 });
		// No refusal at all is a healthy figure, not "no data".
		expect((await evaluateRules(rule, refused([]), T))[0]).toMatchObject({ state: "ok", value: 0 });
		expect(rule[0]!.runbook).toMatch(/secret/);
	});

	it("add the ledger rules: each fires on its own figure past its threshold for its `for`, and stays quiet below", async () => {
		// figure: how far past the threshold (a bad minute) and a quiet value (a good one).
		const cases: [name: string, field: string, bad: number, quiet: number, forMinutes: number][] = [
			["DepositPendingTooLong", "oldestPendingMinutes", 42, 12, 5],
			["UnmatchedDepositsGrowing", "unmatchedGrowth", 9, 2, 10],
			["DepositConflictsGrowing", "conflictsGrowth", 1, 0, 0],
			["ReversalShortfallsGrowing", "shortfallsGrowth", 1, 0, 0],
			["DeadLettersGrowing", "deadLettersGrowth", 2, 0, 0],
			["AddressPoolEmpty", "emptyPools", 1, 0, 0],
		];
		for (const [name, field, bad, quiet, forMinutes] of cases) {
			const rule = RULES.filter((r) => r.name === name);
			expect(rule[0], name).toMatchObject({ signal: "ledger", field, forMinutes });
			expect(rule[0]!.runbook, name).toBeTruthy();
			// Bad since `since` minutes before T, quiet before that.
			const badSince =
				(since: number): FigureSource =>
				async (_signal, _window, at) => ({
					[field]: (T.getTime() - at.getTime()) / MINUTE <= since ? bad : quiet,
				});
			expect((await evaluateRules(rule, badSince(-1), T))[0], name).toMatchObject({
				state: "ok",
				value: quiet,
			});
			expect((await evaluateRules(rule, badSince(forMinutes), T))[0], name).toMatchObject({
				state: "firing",
				value: bad,
			});
			if (forMinutes > 0) {
				expect((await evaluateRules(rule, badSince(forMinutes - 1), T))[0], name).toMatchObject({
					state: "pending",
				});
			}
		}
	});

	it("read the ledger figures from the consumer's gauge points: growth from first to last, none when no point came", async () => {
		const rows: Record<string, string | number>[] = [];
		const read = () =>
			SIGNALS.ledger.read(
				{
					accountId: "a",
					sql: async (query) => {
						expect(query).toContain("blob1 = 'ledger'");
						expect(query).toContain(
							"argMax(double2, timestamp) - argMin(double2, timestamp) AS unmatched_growth",
						);
						return rows;
					},
					graphql: async () => {
						throw new Error("not asked");
					},
					queueId: async () => "q",
					currentTraffic: async () => [],
				},
				{
					environment: "test",
					dataset: "cricalgo_edge_test",
					edgeScript: "edge",
					apiScript: "api",
					consumerScript: "consumer",
					queue: "deposits",
					dbCapacity: 20,
					cpuBudgetMs: 50,
				},
				{ from: new Date(T.getTime() - 5 * MINUTE), to: T },
			);
		rows.push({ points: "0" });
		expect(Object.values(await read()).every((v) => v === null)).toBe(true);
		rows[0] = {
			points: "5",
			oldest_pending_minutes: 31.5,
			unmatched_growth: 6,
			conflicts_growth: 0,
			shortfalls_growth: 0,
			dead_letters_growth: 1,
			empty_pools: 1,
		};
		expect(await read()).toEqual({
			oldestPendingMinutes: 31.5,
			unmatchedGrowth: 6,
			conflictsGrowth: 0,
			shortfallsGrowth: 0,
			deadLettersGrowth: 1,
			emptyPools: 1,
		});
	});

	it("each read a figure its signal provides (a misspelt field would report no data forever)", () => {
		for (const rule of RULES) expect(SIGNALS[rule.signal].fields, rule.name).toContain(rule.field);
	});
});

const T = new Date(Date.UTC(2026, 10, 21, 12, 0, 0));
const MINUTE = 60_000;

/** Error rate by how many minutes before T the evaluation point is. */
function errorRates(byMinute: (minutesAgo: number) => number | null): FigureSource {
	return async (_signal, _window, at): Promise<Figures> => {
		const rate = byMinute((T.getTime() - at.getTime()) / MINUTE);
		return { errorRate: rate, requests: rate === null ? 0 : 1000 };
	};
}

const highErrorRate = RULES.filter((r) => r.name === "HighErrorRate");

describe("evaluateRules", () => {
	it("fires only when the condition held at every minute of `for` (2m = 3 points)", async () => {
		const held = (n: number) => errorRates((m) => (m < n ? 0.02 : 0.0001));
		const state = async (n: number) => (await evaluateRules(highErrorRate, held(n), T))[0];
		expect(await state(0)).toMatchObject({ state: "ok", heldMinutes: 0 });
		expect(await state(1)).toMatchObject({ state: "pending", heldMinutes: 0 });
		expect(await state(2)).toMatchObject({ state: "pending", heldMinutes: 1 });
		expect(await state(3)).toMatchObject({ state: "firing", heldMinutes: 2, value: 0.02 });
	});

	it("stops looking back at the first minute the condition did not hold", async () => {
		const asked: number[] = [];
		const source: FigureSource = async (_signal, _window, at) => {
			asked.push((T.getTime() - at.getTime()) / MINUTE);
			return { errorRate: asked.length === 1 ? 0.02 : 0 };
		};
		await evaluateRules(highErrorRate, source, T);
		expect(asked).toEqual([0, 1]);
	});

	it("reports no data (never firing) when there was nothing to measure", async () => {
		const [result] = await evaluateRules(
			highErrorRate,
			errorRates(() => null),
			T,
		);
		expect(result).toMatchObject({ state: "no_data", value: null });
	});

	it("reports an error with its reason when a figure cannot be read", async () => {
		const [result] = await evaluateRules(
			highErrorRate,
			async () => {
				throw new Error("Analytics Engine SQL query failed: HTTP 503");
			},
			T,
		);
		expect(result).toMatchObject({ state: "error", error: "Analytics Engine SQL query failed: HTTP 503" });
	});

	it("evaluates at the start of the minute", () => {
		expect(evaluationTime(new Date(T.getTime() + 59_999))).toEqual(T);
	});
});

describe("toPrometheusText", () => {
	it("escapes label values as the text format requires", async () => {
		const target: AlertTarget = {
			environment: 'prod "eu"\\1',
			dataset: "d",
			edgeScript: "e",
			apiScript: "a",
			consumerScript: "c",
			queue: "q",
			dbCapacity: 20,
			cpuBudgetMs: 50,
		};
		const results = await evaluateRules(
			highErrorRate,
			errorRates(() => 0.02),
			T,
		);
		expect(toPrometheusText(target, results)).toContain(
			'ALERTS{alertname="HighErrorRate",alertstate="firing",severity="critical",environment="prod \\"eu\\"\\\\1"} 1',
		);
	});
});
