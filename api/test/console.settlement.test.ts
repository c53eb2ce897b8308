/**
 * The console's pause and resume of settlement, and its release of a held deposit, with the real
 * local queue and consumer behind them: the home page says whether settlement runs; a pause or
 * resume without the CSRF token or a reason changes nothing; a release credits the confirmed
 * owner once and refuses without the confirmation.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { count, seedDeposit, sql } from "./support/accounts";
import { signedIn } from "./support/console";

beforeEach(() => resetDatabase(env));

describe("pausing settlement from the console", () => {
	it("shows the state on the home page, pauses and resumes with a reason, and refuses a form without its token", async () => {
		const { admin, browser } = await signedIn();
		expect(await (await browser.request("/console")).text()).toContain(
			"Settlement is <strong>running</strong>",
		);
		expect(
			(await browser.request("/console/settlement/pause", { form: { reason: "no token here" } })).status,
		).toBe(403);
		const csrf = await browser.csrf("/console");
		expect((await browser.request("/console/settlement/pause", { form: { csrf, reason: "" } })).status).toBe(
			422,
		);
		expect(await count("settlement_pause")).toBe(0);

		const paused = await browser.request("/console/settlement/pause", {
			form: { csrf, reason: "chain incident" },
		});
		expect(paused.status).toBe(303);
		expect(paused.headers.get("location")).toBe("/console?done=paused");
		const home = await (await browser.request("/console?done=paused")).text();
		expect(home).toContain("Settlement is <strong>paused</strong>");
		expect(home).toContain(admin.username);
		expect(home).toContain("chain incident");
		expect(home).toContain("Resume settlement");
		const twice = await browser.request("/console/settlement/pause", {
			form: { csrf, reason: "chain incident" },
		});
		expect(twice.headers.get("location")).toBe("/console?done=already-paused");

		const resumed = await browser.request("/console/settlement/resume", {
			form: { csrf, reason: "incident over" },
		});
		expect(resumed.headers.get("location")).toBe("/console?done=resumed");
		expect(await (await browser.request("/console")).text()).toContain(
			"Settlement is <strong>running</strong>",
		);
		const audit = await sql().query(
			"SELECT action, details->>'reason' AS reason FROM audit_logs WHERE admin_id = $1 AND action LIKE 'settlement.%' ORDER BY created_at",
			[admin.id],
		);
		expect(audit).toEqual([
			{ action: "settlement.pause", reason: "chain incident" },
			{ action: "settlement.resume", reason: "incident over" },
		]);
	});
});

describe("releasing a held deposit from the console", () => {
	it("credits the confirmed owner once; without the confirmation nothing happens", async () => {
		const { admin, browser } = await signedIn();
		const [user] = await sql().query(
			`WITH u AS (INSERT INTO users (username) VALUES ('held_owner') RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
		);
		const userId = user!.user_id as string;
		const txId = await seedDeposit({ status: "pending", amount: "7.5", confirmations: 12, userId });
		await sql().query("UPDATE deposits SET status = 'held', hold_reason = 'chain_unverified' WHERE id = $1", [
			txId,
		]);
		const page = await (await browser.request("/console/held")).text();
		expect(page).toContain("Release to owner");
		expect(page).toContain(`name="user_id" value="${userId}"`);
		const csrf = await browser.csrf("/console/held");
		const path = `/console/deposits/${txId}/review`;
		const form = { csrf, decision: "release", reason: "verified by hand on the explorer", user_id: userId };
		const unconfirmed = await browser.request(path, { form });
		expect(unconfirmed.status).toBe(422);
		expect(await unconfirmed.text()).toContain("confirms the player");
		const other = crypto.randomUUID();
		const wrong = await browser.request(path, { form: { ...form, user_id: other, confirm_owner: other } });
		expect(wrong.status).toBe(409);
		expect(await count("audit_logs", "action = 'deposit.review' AND details->>'outcome' = 'released'")).toBe(
			0,
		);

		const res = await browser.request(path, { form: { ...form, confirm_owner: userId } });
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/console/held?done=released");
		await vi.waitFor(
			async () =>
				expect(
					(
						await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [userId])
					)[0],
				).toEqual({ b: "7.50000000" }),
			{ timeout: 15_000, interval: 200 },
		);
		expect(await count("transactions", "related_id = $1 AND tx_type = 'deposit'", [txId])).toBe(1);
		expect(
			await count(
				"audit_logs",
				"action = 'deposit.review' AND admin_id = $1 AND details->>'outcome' = 'released'",
				[admin.id],
			),
		).toBe(1);
		const again = await browser.request(path, { form: { ...form, confirm_owner: userId } });
		expect(again.status).toBe(409);
	});
});
