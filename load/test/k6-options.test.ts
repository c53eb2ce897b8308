/**
 * The k6 script's settings and shapes (load/k6/lib/config.ts, scenarios.ts): what each setting
 * does to the scenarios k6 is given, the mistakes that stop a run before it starts, and the
 * settlement check's place after the load with the thresholds that fail without it.
 */
import { describe, expect, it } from "vitest";
import { parseDuration, readConfig } from "../k6/lib/config";
import { loadFor, settlementScenario, thresholdsFor } from "../k6/lib/scenarios";

const base = { BASE_URL: "https://staging.example/", WEBHOOK_SECRET: "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=" };
const config = (env: Record<string, string> = {}) => readConfig({ ...base, ...env });
const stageSeconds = (stages: unknown) =>
	(stages as { duration: string }[]).reduce((sum, s) => sum + parseDuration("stage", s.duration), 0);

describe("k6 settings", () => {
	it("needs the target and a Standard Webhooks secret, and names what is wrong", () => {
		expect(() => readConfig({})).toThrow(/BASE_URL is not set: run with -e BASE_URL=/);
		expect(() => readConfig({ BASE_URL: "x", WEBHOOK_SECRET: "hunter2" })).toThrow(/whsec_/);
		expect(() => config({ SCENARIO: "marathon" })).toThrow(
			/SCENARIO=marathon is not known: choose one of smoke/,
		);
		expect(() => config({ DURATION_SCALE: "0" })).toThrow(/DURATION_SCALE=0 is not valid/);
		expect(() => config({ SOAK_DURATION: "forever" })).toThrow(/SOAK_DURATION=forever is not a duration/);
		expect(() => config({ RUN_ID: "a b" })).toThrow(/RUN_ID=a b is not valid/);
		expect(config().baseUrl).toBe("https://staging.example");
	});

	it("stops on a retired setting with what replaces it", () => {
		expect(() => config({ ADMIN_TOKEN: "eyJ…" })).toThrow(
			/ADMIN_TOKEN is no longer read: .*logs in as the run's own players/,
		);
		expect(() => config({ USER_IDS: "a,b" })).toThrow(/USER_IDS is no longer read/);
		expect(() => config({ SETTLE_SAMPLE: "10" })).toThrow(/SETTLE_SAMPLE is no longer read/);
	});

	it("reads k6 durations", () => {
		expect(parseDuration("D", "90s")).toBe(90);
		expect(parseDuration("D", "1h30m")).toBe(5400);
		expect(parseDuration("D", "1.5m")).toBe(90);
		expect(parseDuration("D", "500ms")).toBe(0.5);
		expect(() => parseDuration("D", "10")).toThrow(/D=10 is not a duration/);
	});
});

describe("k6 load shapes", () => {
	it("keeps the documented lengths by default", () => {
		expect(loadFor(config({ SCENARIO: "smoke" })).seconds).toBe(60);
		expect(loadFor(config({ SCENARIO: "average" })).seconds).toBe(13 * 60);
		expect(loadFor(config({ SCENARIO: "stress" })).seconds).toBe(16 * 60);
		expect(loadFor(config({ SCENARIO: "spike" })).seconds).toBe(4 * 60 + 50);
		expect(loadFor(config({ SCENARIO: "soak" })).seconds).toBe(2 * 3600 + 10 * 60);
	});

	it("scales every stage with DURATION_SCALE and every rate with BASE_RATE", () => {
		const load = loadFor(config({ SCENARIO: "average", DURATION_SCALE: "0.1", BASE_RATE: "5" }));
		expect(load.seconds).toBe(12 + 60 + 6);
		expect(stageSeconds((load.scenario as { stages?: unknown }).stages)).toBe(load.seconds);
		expect(load.scenario).toMatchObject({
			executor: "ramping-arrival-rate",
			stages: [{ target: 5 }, { target: 5 }, { target: 0 }],
		});
		const soak = loadFor(config({ SCENARIO: "soak", SOAK_DURATION: "30m", DURATION_SCALE: "0.01" }));
		expect(soak.seconds).toBe(3 + 18 + 3);
		const smoke = loadFor(config({ DURATION_SCALE: "0.001" }));
		expect(smoke.scenario).toMatchObject({ executor: "constant-arrival-rate", duration: "1s", rate: 2 });
	});

	it("maps the original's --vus 20 --duration 1m habit onto VUS and DURATION, a closed model", () => {
		const load = loadFor(config({ VUS: "20", DURATION: "1m" }));
		expect(load).toMatchObject({ name: "vus", seconds: 60, steady: false });
		expect(load.scenario).toMatchObject({ executor: "constant-vus", vus: 20, duration: "60s" });
		expect(loadFor(config({ SCENARIO: "vus" })).scenario).toMatchObject({ vus: 20, duration: "60s" });
		expect(() => config({ VUS: "20", SCENARIO: "average" })).toThrow(
			/VUS and DURATION shape the closed-model run/,
		);
	});

	it("starts the settlement check when the load's schedule ends, with room for its wait", () => {
		const load = loadFor(config({ SCENARIO: "spike", DURATION_SCALE: "0.5" }));
		const check = settlementScenario(load, 120, 20);
		expect(check).toMatchObject({ executor: "per-vu-iterations", exec: "settlement", vus: 1, iterations: 1 });
		expect(check.startTime).toBe(`${load.seconds}s`);
		const maxDuration = (s: unknown) =>
			parseDuration("maxDuration", String((s as { maxDuration?: string }).maxDuration));
		expect(maxDuration(check)).toBeGreaterThan(120 + 30);
		// A minute more for every 20 players to log in (the credential routes' limit).
		expect(maxDuration(settlementScenario(load, 120, 100)) - maxDuration(check)).toBe(4 * 70);
	});

	it("judges the settlement on thresholds that fail without samples, and drops only under steady shapes", () => {
		const steady = thresholdsFor(loadFor(config({ SCENARIO: "average" })));
		expect(steady).toMatchObject({
			settlement_verdict: ["value==1"],
			deposits_checked: ["count>0"],
			deposits_settled: ["rate==1"],
			settle_drain_ms: ["max<30000"],
			dropped_iterations: ["count<1"],
		});
		expect(thresholdsFor(loadFor(config({ SCENARIO: "spike" }))).dropped_iterations).toBeUndefined();
		expect(thresholdsFor(loadFor(config({ VUS: "5" }))).dropped_iterations).toBeUndefined();
	});
});
