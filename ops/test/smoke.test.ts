/**
 * `ops smoke` against the system as `npm start` runs it (ops/local/stack.ts: wrangler dev with
 * the three Workers, the local queue, the Neon driver over the local endpoint, Postgres): the smoke
 * test must pass end to end, its artifact must say so step by step, and the money must really
 * be in the player's wallet. Failures must exit with the documented codes.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neon } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;
// Where the smoke runs write their artifacts.
const scratch = mkdtempSync(join(tmpdir(), "cricalgo-smoke-artifacts-"));

beforeAll(async () => {
	stack = await startTestStack("smoke");
});

afterAll(async () => {
	await stack?.stop();
	rmSync(scratch, { recursive: true, force: true });
});

function artifact(path: string) {
	return JSON.parse(readFileSync(path, "utf8")) as {
		status: string;
		exit_code: number;
		failed_step: string | null;
		user: { id: string; username: string } | null;
		tx_id: string | null;
		steps: { step: string; status: string; http_status: number | null }[];
	};
}

describe("ops smoke", () => {
	it("passes end to end against the local stack, and the deposit is in the player's wallet", async () => {
		const out = join(scratch, "passed", "smoke-result.json");
		const run = await runOps([
			"smoke",
			"--host",
			stack.baseUrl,
			"--secret",
			stack.webhookSecret,
			"--timeout",
			"45s",
			"--interval",
			"250ms",
			"--out",
			out,
		]);

		expect(run.code, run.output).toBe(0);
		const result = artifact(out);
		expect(result).toMatchObject({ status: "passed", exit_code: 0, failed_step: null });
		expect(result.steps.map((s) => [s.step, s.status, s.http_status])).toEqual([
			["health", "passed", 200],
			["register", "passed", 201],
			["login", "passed", 200],
			["webhook", "passed", 202],
			["credit", "passed", 200],
			["transactions", "passed", 200],
		]);
		expect(JSON.stringify(result)).not.toContain("access_token");

		const sql = neon(stack.databaseUrl);
		const [wallet] = await sql.query(
			"SELECT w.deposit_balance::text AS balance FROM wallets w JOIN users u ON u.id = w.user_id WHERE u.username = $1",
			[result.user!.username],
		);
		expect(wallet).toEqual({ balance: "0.00100000" });
		const [deposit] = await sql.query("SELECT status::text AS status FROM deposits WHERE id = $1", [
			result.tx_id,
		]);
		expect(deposit).toEqual({ status: "credited" });
	});

	it("exits 3 when the Worker refuses the webhook's signature, and skips the rest", async () => {
		const out = join(scratch, "refused", "smoke-result.json");
		const run = await runOps([
			"smoke",
			"--host",
			stack.baseUrl,
			"--secret",
			"whsec_bm90LXRoZS1zZWNyZXQtdGhlLXdvcmtlci1rbm93cw==",
			"--out",
			out,
		]);

		expect(run.code, run.output).toBe(3);
		expect(run.stdout).toContain("answered 401");
		const result = artifact(out);
		expect(result.failed_step).toBe("webhook");
		expect(result.steps.map((s) => s.status)).toEqual([
			"passed",
			"passed",
			"passed",
			"failed",
			"skipped",
			"skipped",
		]);
	});

	it("--health-only checks the health endpoint alone", async () => {
		const out = join(scratch, "health", "smoke-result.json");
		const run = await runOps(["smoke", "--host", stack.baseUrl, "--health-only", "--out", out]);
		expect(run.code, run.output).toBe(0);
		expect(artifact(out).steps.map((s) => s.step)).toEqual(["health"]);
	});

	it("exits 2 when the host cannot be reached", async () => {
		const out = join(scratch, "unreachable", "smoke-result.json");
		const run = await runOps(["smoke", "--host", "http://127.0.0.1:9", "--out", out]);
		expect(run.code, run.output).toBe(2);
		expect(run.stdout).toContain("could not reach http://127.0.0.1:9");
		expect(artifact(out)).toMatchObject({ status: "failed", exit_code: 2, failed_step: "health" });
	});
});
