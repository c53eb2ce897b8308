/**
 * The rollout gate's decision rules, one by one (shared/rollout/gate.ts), and the choice of the
 * version a rollback returns to (ops/rollout/previous-version.ts).
 */
import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY, judge, type VersionFigures } from "../../shared/rollout/gate";
import type { DeploymentState } from "../cloudflare/deployments";
import { previousVersion } from "../rollout/previous-version";

const stable: VersionFigures = { requests: 9000, errors: 9, p95Ms: 200, p99Ms: 450 };
const healthy: VersionFigures = { requests: 1000, errors: 1, p95Ms: 210, p99Ms: 470 };

describe("judge", () => {
	it("promotes a canary that holds the thresholds and matches stable", () => {
		const verdict = judge(healthy, stable, DEFAULT_POLICY);
		expect(verdict.decision).toBe("promote");
		expect(verdict.checks.map((c) => [c.name, c.ok])).toEqual([
			["error rate", true],
			["error rate vs stable", true],
			["p95", true],
			["p95 vs stable", true],
			["p99", true],
			["p99 vs stable", true],
		]);
	});

	it("rolls back above the 0.5 % error ceiling even when stable is as bad", () => {
		const bad = { ...stable, errors: 90 };
		const verdict = judge({ ...healthy, errors: 10 }, bad, DEFAULT_POLICY);
		expect(verdict.decision).toBe("rollback");
		expect(verdict.reasons).toEqual(["error rate failed: canary 1.00 % (10/1000), limit 0.50 %"]);
	});

	it("rolls back an error rate under the ceiling but over stable's plus the margin", () => {
		// 0.4 % against stable's 0.1 % + 0.1 point.
		const verdict = judge({ ...healthy, errors: 4 }, stable, DEFAULT_POLICY);
		expect(verdict.decision).toBe("rollback");
		expect(verdict.reasons).toEqual([
			"error rate vs stable failed: canary 0.40 %, stable 0.10 % + margin 0.10 %",
		]);
	});

	it("allows latency within stable × 1.2 + 25 ms and refuses just above", () => {
		const edge = 200 * 1.2 + 25;
		expect(judge({ ...healthy, p95Ms: edge }, stable, DEFAULT_POLICY).decision).toBe("promote");
		const verdict = judge({ ...healthy, p95Ms: edge + 1 }, stable, DEFAULT_POLICY);
		expect(verdict.decision).toBe("rollback");
		expect(verdict.reasons[0]).toMatch(/^p95 vs stable failed/);
	});

	it("rolls back above the p95 and p99 ceilings whatever stable does", () => {
		const slowStable = { ...stable, p95Ms: 2500, p99Ms: 6000 };
		const verdict = judge({ ...healthy, p95Ms: 2100, p99Ms: 5100 }, slowStable, DEFAULT_POLICY);
		expect(verdict.decision).toBe("rollback");
		expect(verdict.reasons).toEqual([
			"p95 failed: canary 2100 ms, limit 2000 ms",
			"p99 failed: canary 5100 ms, limit 5000 ms",
		]);
	});

	it("waits when either version has fewer than the minimum requests", () => {
		expect(judge({ ...healthy, requests: 99, errors: 0 }, stable, DEFAULT_POLICY)).toMatchObject({
			decision: "insufficient",
			reasons: ["canary served 99 requests; at least 100 each are needed to judge"],
		});
		expect(judge(healthy, { ...stable, requests: 50 }, DEFAULT_POLICY).decision).toBe("insufficient");
	});

	it("rolls back at once when the first requests already break the ceiling whatever follows", () => {
		// 1 failure in 100 would be 1 %: over 0.5 % even if every request still to come succeeds.
		const verdict = judge({ requests: 40, errors: 1, p95Ms: 100, p99Ms: 100 }, stable, DEFAULT_POLICY);
		expect(verdict.decision).toBe("rollback");
		expect(verdict.reasons[0]).toContain("whatever follows");
		// None failed yet: wait.
		expect(judge({ requests: 40, errors: 0, p95Ms: 100, p99Ms: 100 }, stable, DEFAULT_POLICY).decision).toBe(
			"insufficient",
		);
	});

	it("uses the margins it is given", () => {
		const strict = { ...DEFAULT_POLICY, latencyMargin: 0, latencySlackMs: 0 };
		expect(judge({ ...healthy, p95Ms: 201 }, stable, strict).decision).toBe("rollback");
		expect(judge({ ...healthy, p95Ms: 200, p99Ms: 450 }, stable, strict).decision).toBe("promote");
	});
});

const d = (id: string, ...traffic: [string, number][]): DeploymentState => ({
	id,
	createdOn: "",
	traffic: traffic.map(([versionId, percentage]) => ({ versionId, percentage })),
});

describe("previousVersion", () => {
	it("after a completed rollout, the version that served 100 % before it", () => {
		const history = [
			d("d5", ["new", 100]),
			d("d4", ["new", 50], ["old", 50]),
			d("d3", ["new", 10], ["old", 90]),
			d("d2", ["old", 100]),
			d("d1", ["older", 100]),
		];
		expect(previousVersion(history)).toEqual({ versionId: "old", deploymentId: "d2" });
	});

	it("during a split, the half that served 100 % alone before", () => {
		const history = [
			d("d3", ["new", 25], ["old", 75]),
			d("d2", ["new", 10], ["old", 90]),
			d("d1", ["old", 100]),
		];
		expect(previousVersion(history)).toEqual({ versionId: "old", deploymentId: "d1" });
	});

	it("says so when no earlier version served alone", () => {
		expect(previousVersion([d("d1", ["only", 100])])).toEqual({
			error: "none of the 1 most recent deployments had another version alone at 100 %",
		});
		expect(previousVersion([])).toEqual({ error: "the Worker has no deployments" });
	});
});
