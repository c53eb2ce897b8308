/**
 * `ops settlement` as an operator runs it:
 * - against the local stack (`npm start`'s Workers, its real local queue and consumer): pause,
 *   webhooks accepted while paused stay uncredited, status says who paused and why, resume, each
 *   deposit credited once; a second pause or resume changes nothing; a pause without a reason is
 *   refused before anything changes;
 * - with `--env production`, also the deposits queue's delivery on Cloudflare, through the
 *   stand-in of its API (the control plane cannot be reached from here): the exact call
 *   `wrangler queues pause-delivery` makes, checked by running real wrangler against the same
 *   stand-in; a Cloudflare failure leaves settlement paused by the admin API, and says so.
 */
import { randomBytes } from "node:crypto";
import { neon } from "@neondatabase/serverless";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type CloudflareStandIn, startCloudflareStandIn } from "../../test/support/cloudflare-stand-in";
import type { LocalStack } from "../local/stack";
import { runOps } from "./support/run-ops";
import { signedInAdmin } from "./support/stack-admin";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;
let standIn: CloudflareStandIn;
let token: string;

beforeAll(async () => {
	[stack, standIn] = await Promise.all([startTestStack("settlement"), startCloudflareStandIn()]);
	token = await signedInAdmin(stack, "ops_pause");
}, 180_000);

afterAll(async () => {
	await Promise.all([stack?.stop(), standIn?.close()]);
});

beforeEach(() => standIn.reset());

const db = () => neon(stack.databaseUrl);
const cloudflareEnv = () => ({
	OPS_TOKEN: token,
	CLOUDFLARE_API_TOKEN: standIn.token,
	CLOUDFLARE_ACCOUNT_ID: standIn.accountId,
	CLOUDFLARE_API_BASE_URL: standIn.baseUrl,
});
const settlement = (args: string[], env: Record<string, string> = { OPS_TOKEN: token }) =>
	runOps(["settlement", ...args, "--host", stack.baseUrl], env);

async function sendDeposit(userId: string, amount: string) {
	const body = JSON.stringify({
		tx_hash: `0x${randomBytes(32).toString("hex")}`,
		amount,
		confirmations: 15,
		chain: "bep20",
		to_address: `0x${randomBytes(20).toString("hex")}`,
		user_id: userId,
	});
	const id = `msg_${randomBytes(8).toString("hex")}`;
	const at = new Date();
	const res = await fetch(`${stack.baseUrl}/api/v1/webhooks/bep20`, {
		method: "POST",
		headers: {
			"content-type": "application/json",
			"webhook-id": id,
			"webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
			"webhook-signature": new Webhook(stack.webhookSecret).sign(id, at, body),
		},
		body,
	});
	expect(res.status, await res.clone().text()).toBe(202);
	return ((await res.json()) as { tx_id: string }).tx_id;
}

const balance = async (userId: string) =>
	(
		(await db().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [userId]))[0] as {
			b: string;
		}
	).b;

describe("ops settlement on the local stack", { timeout: 150_000 }, () => {
	it("pauses, keeps what arrives uncredited, resumes, and credits each deposit once", async () => {
		const [user] = (await db().query(
			`WITH u AS (INSERT INTO users (username) VALUES ('ops_paused_' || substr(md5(random()::text), 1, 6)) RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
		)) as { user_id: string }[];
		const userId = user!.user_id;

		const before = await settlement(["status"]);
		expect(before.code, before.output).toBe(0);
		expect(before.stdout).toContain("settlement: running");
		const noReason = await settlement(["pause"]);
		expect(noReason.code).toBe(2);
		expect(noReason.stderr).toContain("--reason");

		const paused = await settlement(["pause", "--reason", "reconciling the ledger"]);
		expect(paused.code, paused.output).toBe(0);
		expect(paused.stdout).toMatch(
			/✓ settlement: PAUSED since \S+Z by ops_pause_\w+: "reconciling the ledger"/,
		);
		const again = await settlement(["pause", "--reason", "reconciling the ledger"]);
		expect(again.code).toBe(0);
		expect(again.stdout).toContain("(nothing changed)");

		const txIds = [await sendDeposit(userId, "3.5"), await sendDeposit(userId, "1.25")];
		await new Promise((r) => setTimeout(r, 6_000));
		expect(await balance(userId)).toBe("0.00000000");
		expect(await db().query("SELECT id FROM deposits WHERE id = ANY($1::uuid[])", [txIds])).toEqual([]);
		const status = JSON.parse((await settlement(["status", "--json"])).stdout);
		expect(status).toMatchObject({ paused: true, reason: "reconciling the ledger" });

		const resumed = await settlement(["resume", "--reason", "ledger reconciled"]);
		expect(resumed.code, resumed.output).toBe(0);
		expect(resumed.stdout).toContain("✓ settlement: running");
		await vi.waitFor(async () => expect(await balance(userId)).toBe("4.75000000"), {
			timeout: 30_000,
			interval: 250,
		});
		await new Promise((r) => setTimeout(r, 3_000));
		expect(await balance(userId)).toBe("4.75000000");
		const credits = await db().query(
			"SELECT count(*)::int AS n FROM transactions WHERE tx_type = 'deposit' AND related_id = ANY($1::uuid[])",
			[txIds],
		);
		expect(credits).toEqual([{ n: 2 }]);
		const audit = await db().query(
			"SELECT action FROM audit_logs WHERE action LIKE 'settlement.%' ORDER BY created_at",
		);
		expect(audit).toEqual([{ action: "settlement.pause" }, { action: "settlement.resume" }]);
	});
});

describe("ops settlement --env production", { timeout: 150_000 }, () => {
	it("pauses and resumes the deposits queue's delivery on Cloudflare beside the admin API's pause", async () => {
		const paused = await settlement(
			["pause", "--env", "production", "--reason", "chain incident"],
			cloudflareEnv(),
		);
		expect(paused.code, paused.output).toBe(0);
		expect(paused.stdout).toContain("✓ queue deposits-production: delivery paused");
		expect(standIn.pausedQueues).toEqual(new Set(["deposits-production"]));
		const patch = standIn.calls.find((c) => c.method === "PATCH");
		expect(patch).toMatchObject({
			path: `/accounts/${standIn.accountId}/queues/queue-id-deposits-production`,
		});
		expect(JSON.parse(patch!.body)).toEqual({
			queue_name: "deposits-production",
			settings: { delivery_paused: true },
		});
		const status = await settlement(["status", "--env", "production"], cloudflareEnv());
		expect(status.stdout).toContain("settlement: PAUSED");
		expect(status.stdout).toContain("queue deposits-production: delivery PAUSED");

		const resumed = await settlement(
			["resume", "--env", "production", "--reason", "incident over"],
			cloudflareEnv(),
		);
		expect(resumed.code, resumed.output).toBe(0);
		expect(resumed.stdout).toContain("✓ queue deposits-production: delivery resumed");
		expect(standIn.pausedQueues.size).toBe(0);
	});

	it("says settlement stays paused when Cloudflare refuses, and exits 1", async () => {
		standIn.failures.push({ method: "PATCH", path: "/queues/", status: 503 });
		const run = await settlement(
			["pause", "--env", "production", "--reason", "chain incident"],
			cloudflareEnv(),
		);
		expect(run.code, run.output).toBe(1);
		expect(run.stdout).toContain("delivery not paused");
		expect(run.stdout).toContain("Settlement is paused all the same");
		expect((await db().query("SELECT count(*)::int AS n FROM settlement_pause"))[0]).toEqual({ n: 1 });
		standIn.failures.length = 0;
		const status = await settlement(["status", "--env", "production"], cloudflareEnv());
		expect(status.stdout).toContain("the two disagree");
		expect((await settlement(["resume", "--reason", "incident over"])).code).toBe(0);
	});

	it("answers the call real wrangler makes for pause-delivery and resume-delivery", async () => {
		const { runWrangler } = await import("../cloudflare/wrangler-cli");
		const env = cloudflareEnv();
		const saved = { ...process.env };
		Object.assign(process.env, env);
		try {
			const target = { configPath: "queue-consumer/wrangler.toml", env: "production" };
			const paused = await runWrangler(target, ["queues", "pause-delivery", "deposits-production"]);
			expect(paused.stdout).toContain("Paused message delivery for queue deposits-production");
			expect(standIn.pausedQueues.has("deposits-production")).toBe(true);
			await runWrangler(target, ["queues", "resume-delivery", "deposits-production"]);
			expect(standIn.pausedQueues.has("deposits-production")).toBe(false);
		} finally {
			process.env = saved;
		}
	});
});
