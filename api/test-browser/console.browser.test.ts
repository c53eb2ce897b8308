/**
 * The operators' console in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against the local stack: the three Workers under `wrangler dev`, the real local
 * queue, Postgres through the Neon driver. An operator signs in with a real TOTP code, finds a
 * deposit by its hash, assigns an unmatched one and sees it credited, redrives a dead letter,
 * resolves a conflict with a note, pauses settlement (a webhook waits uncredited) and resumes it
 * (credited once), releases a held deposit to its owner, resolves a reversal shortfall (the
 * player unfrozen), finds the actions in the audit log, and reads canary against stable on the
 * watch page, by keyboard and by the controls' accessible names. The watch page's analytics
 * come from the Cloudflare API stand-in (test/support/cloudflare-stand-in.ts): Cloudflare cannot
 * be reached from here, and wrangler dev keeps no Analytics Engine data.
 * A screenshot of each page goes to CONSOLE_SCREENSHOTS (default: cricalgo-console-shots in the
 * system's temporary folder).
 */

import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neon } from "@neondatabase/serverless";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../ops/local/stack";
import { createdAdmin, type StackAdmin } from "../../ops/test/support/stack-admin";
import { startTestStack } from "../../ops/test/support/test-stack";
import { signWebhook } from "../../ops/webhook-signing";
import { depositTxId } from "../../schema/tx-id";
import { watchScenario } from "../../test/support/alert-scenario";
import { type CloudflareStandIn, startCloudflareStandIn } from "../../test/support/cloudflare-stand-in";

const CHROMIUM = "/usr/bin/chromium";
const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? join(tmpdir(), "cricalgo-console-shots");
const PLAYER = `player_${randomBytes(3).toString("hex")}`;

let stack: LocalStack;
let cloudflare: CloudflareStandIn;
const STABLE = "5ab1e000-0000-4000-8000-00000000000a";
const CANARY = "ca4a2100-0000-4000-8000-00000000000b";
const CONSUMER = "c0450000-0000-4000-8000-00000000000c";
const API = "a0100000-0000-4000-8000-00000000000d";
let browser: Browser;
let page: Page;
let admin: StackAdmin;
let playerId: string;
const consoleErrors: string[] = [];

async function shot(name: string) {
	await page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
}

async function waitFor<T>(
	probe: () => Promise<T | undefined>,
	what: string | (() => string),
	timeoutMs = 30_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) {
			throw new Error(`${typeof what === "function" ? what() : what}: not seen within ${timeoutMs / 1000} s`);
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}

const balance = async () =>
	String(
		(
			await neon(stack.databaseUrl).query(
				"SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1",
				[playerId],
			)
		)[0]?.b,
	);

/** A deposit row of the player's, written as settlement leaves one in `status`. */
async function seedDeposit(status: "held" | "reversed", amount: string) {
	const txHash = `0x${randomBytes(32).toString("hex")}`;
	const txId = await depositTxId("bep20", txHash, 0);
	await neon(stack.databaseUrl).query(
		`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, user_id, status, confirmations,
			required_confirmations, hold_reason)
		 VALUES ($1, 'bep20', $2, 0, $3, 'USDT', $4, $5::deposit_state, 15, 12,
			CASE WHEN $5 = 'held' THEN 'chain_unverified' END)`,
		[txId, txHash, amount, playerId, status],
	);
	return txId;
}

/** Sends a signed webhook for a deposit to an address nobody holds: it is parked as unmatched. */
async function unmatchedDeposit(amount: string) {
	const txHash = `0x${randomBytes(32).toString("hex")}`;
	const { headers, body } = signWebhook(stack.webhookSecret, {
		tx_hash: txHash,
		amount,
		confirmations: 12,
		chain: "bep20",
		currency: "USDT",
		to_address: `0x${randomBytes(20).toString("hex")}`,
	});
	const res = await fetch(`${stack.baseUrl}/api/v1/webhooks/bep20`, { method: "POST", headers, body });
	expect(res.status).toBe(202);
	const { tx_id } = (await res.json()) as { tx_id: string };
	const sql = neon(stack.databaseUrl);
	let last = "no deposit row";
	await waitFor(
		async () => {
			const [row] = await sql.query("SELECT status, hold_reason FROM deposits WHERE id = $1", [tx_id]);
			if (row) last = `${row.status} ${row.hold_reason ?? ""}`;
			return row?.status === "unmatched" ? row : undefined;
		},
		() => `the deposit parked as unmatched (last seen: ${last})`,
	);
	return { txHash, txId: tx_id, webhookId: headers["webhook-id"]! };
}

beforeAll(async () => {
	if (!existsSync(CHROMIUM)) {
		throw new Error(
			`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); .ci/run does`,
		);
	}
	mkdirSync(SHOTS, { recursive: true });
	cloudflare = await startCloudflareStandIn();
	cloudflare.seedScript("cricalgo-edge", { versionId: STABLE });
	cloudflare.deploy("cricalgo-edge", [
		{ version_id: CANARY, percentage: 25 },
		{ version_id: STABLE, percentage: 75 },
	]);
	cloudflare.seedScript("cricalgo-api", { versionId: API });
	cloudflare.seedScript("cricalgo-queue-consumer", { versionId: CONSUMER });
	cloudflare.scenario = watchScenario({ stable: STABLE, canary: CANARY, api: API, consumer: CONSUMER });
	stack = await startTestStack("console", {
		vars: {
			CLOUDFLARE_API_BASE_URL: cloudflare.baseUrl,
			CLOUDFLARE_API_TOKEN: cloudflare.token,
			CLOUDFLARE_ACCOUNT_ID: cloudflare.accountId,
		},
	});
	admin = await createdAdmin(stack, "console");
	const registered = await fetch(`${stack.baseUrl}/api/v1/register`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ username: PLAYER, password: "correct horse battery staple" }),
	});
	expect(registered.status).toBe(201);
	playerId = ((await registered.json()) as { id: string }).id;

	browser = await chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		args: [
			"--headless",
			"--no-sandbox",
			"--disable-gpu",
			"--disable-background-networking",
			"--disable-component-update",
			"--disable-sync",
		],
	});
	page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
	// A CSP violation (an inline style or script the policy refuses) is reported here.
	page.on("console", (m) => {
		if (m.type() === "error") consoleErrors.push(m.text());
	});
}, 180_000);

afterAll(async () => {
	await browser?.close();
	await stack?.stop();
	await cloudflare?.close();
});

describe("the console in a browser", () => {
	it("signs in by keyboard with a TOTP code, labels and focus order as an operator meets them", async () => {
		await page.goto(`${stack.baseUrl}/console`);
		expect(new URL(page.url()).pathname).toBe("/console/sign-in");
		await shot("sign-in");
		await page.getByLabel("Username").focus();
		const order: string[] = [];
		for (let i = 0; i < 4; i++) {
			order.push(
				await page.evaluate(
					() => document.activeElement?.getAttribute("name") ?? document.activeElement?.tagName ?? "",
				),
			);
			await page.keyboard.press("Tab");
		}
		expect(order).toEqual(["username", "password", "totp", "BUTTON"]);
		await page.getByLabel("Username").focus();
		await page.keyboard.type(admin.username);
		await page.keyboard.press("Tab");
		await page.keyboard.type(admin.password);
		await page.keyboard.press("Tab");
		await page.keyboard.type(admin.totp());
		await page.keyboard.press("Enter");
		await page.waitForURL(`${stack.baseUrl}/console`);
		expect(await page.getByRole("heading", { name: "Find", level: 1 }).count()).toBe(1);
		expect(await page.getByRole("button", { name: "Sign out" }).count()).toBe(1);
		await shot("home");
	});

	it("finds a deposit by its hash and tells its story", async () => {
		const deposit = await unmatchedDeposit("17.25");
		await page
			.getByLabel("Find a deposit or a player")
			.fill(deposit.txHash.toUpperCase().replace("0X", "0x"));
		await page.keyboard.press("Enter");
		await page.waitForURL(`${stack.baseUrl}/console/deposits/${deposit.txId}`);
		const facts = page.getByLabel("Deposit", { exact: true });
		expect(await facts.textContent()).toContain("17.25000000 USDT");
		expect(await facts.textContent()).toContain("unmatched");
		const deliveries = page.getByRole("region", { name: "Deliveries received" });
		expect(await deliveries.getByRole("row").count()).toBe(2);
		expect(await deliveries.textContent()).toContain(deposit.webhookId);
		await shot("deposit-unmatched");
	});

	it("assigns an unmatched deposit to a player by username and sees it credited", async () => {
		const deposit = await unmatchedDeposit("8.5");
		await page.getByRole("link", { name: "Unmatched" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/unmatched`);
		await shot("unmatched");
		await page.getByLabel(`Player for ${deposit.txId.slice(0, 8)}`).fill(PLAYER);
		await page.getByRole("button", { name: `Assign deposit ${deposit.txId}` }).click();
		await page.waitForURL(`${stack.baseUrl}/console/deposits/${deposit.txId}?done=assigned`);
		expect(await page.getByRole("status").first().textContent()).toContain("Assigned");
		await waitFor(async () => {
			await page.reload();
			const text = (await page.getByLabel("Deposit", { exact: true }).textContent()) ?? "";
			return text.includes("credited") ? text : undefined;
		}, "the assigned deposit credited");
		const ledger = page.getByRole("region", { name: "Ledger rows" });
		expect(await ledger.textContent()).toContain("8.50000000 USDT");
		expect(await ledger.textContent()).toContain(PLAYER);
		expect(await page.getByRole("region", { name: "Admin actions" }).textContent()).toContain(
			"deposit.assign",
		);
		await shot("deposit-credited");
		// The player's page shows the balance the assignment credited.
		await page.getByRole("link", { name: PLAYER }).first().click();
		expect(await page.getByLabel("Player", { exact: true }).textContent()).toContain("8.50000000");
		await shot("player");
	});

	it("redrives a dead letter, which settlement then takes", async () => {
		const txHash = `0x${randomBytes(32).toString("hex")}`;
		const txId = await depositTxId("bep20", txHash, 0);
		const body = {
			v: 1,
			tx_id: txId,
			chain: "bep20",
			tx_hash: txHash,
			log_index: 0,
			amount: "3.75",
			currency: "USDT",
			confirmations: 12,
			status: "confirmed",
			to_address: null,
			user_id: null,
			block_number: null,
			metadata: null,
			webhook_id: `msg_${randomBytes(6).toString("hex")}`,
			received_at: new Date().toISOString(),
		};
		const sql = neon(stack.databaseUrl);
		const [letter] = await sql.query(
			`INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts)
			VALUES ($1, $2, 'queue_dlq', 'database unavailable after 10 attempts', $3::jsonb, 10) RETURNING id`,
			[`dl-${randomBytes(4).toString("hex")}`, txId, JSON.stringify(body)],
		);
		await page.getByRole("link", { name: "Dead letters" }).click();
		await page.getByLabel("Reason contains").fill("database unavailable");
		await page.getByRole("button", { name: "Filter" }).click();
		await shot("dead-letters");
		await page.getByRole("button", { name: `Redrive dead letter ${letter!.id}` }).click();
		await page.waitForURL(/\/console\/dead-letters\?done=redriven/);
		expect(await page.getByRole("status").first().textContent()).toContain("Redriven: 1");
		await waitFor(async () => {
			const [row] = await sql.query("SELECT status FROM deposits WHERE id = $1", [txId]);
			return row;
		}, "the redriven message settled");
		await shot("dead-letters-redriven");
	});

	it("finds a player by username among the results and resolves a conflict with a note", async () => {
		await page.getByRole("link", { name: "Find" }).click();
		await page.getByLabel("Find a deposit or a player").fill(PLAYER.toUpperCase());
		await page.keyboard.press("Enter");
		await page.waitForURL(/\/console\/search\?q=/);
		const players = page.getByRole("table", { name: /^Players/ });
		expect(await players.getByRole("link", { name: PLAYER }).count()).toBe(1);
		await shot("search-results");

		const deposit = await unmatchedDeposit("2.5");
		const sql = neon(stack.databaseUrl);
		const [conflict] = await sql.query(
			"INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload) VALUES ($1, 25, 'USDT', 'msg_other', '{}') RETURNING id",
			[deposit.txId],
		);
		await page.getByRole("link", { name: "Conflicts" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/conflicts`);
		await shot("conflicts");
		await page
			.getByLabel(`Note for ${String(conflict!.id).slice(0, 8)}`)
			.fill("the watcher misread the amount");
		await page.getByRole("button", { name: `Resolve conflict ${conflict!.id}` }).click();
		await page.waitForURL(/\/console\/conflicts\?done=resolved/);
		expect(await page.getByRole("status").first().textContent()).toContain("Resolved");
	});

	it("pauses settlement from the home page: a webhook waits uncredited, and is credited once after the resume", async () => {
		await page.getByRole("link", { name: "Find" }).click();
		const before = await balance();
		await page.getByLabel("Why pause settlement").fill("checking a chain incident");
		await page.getByRole("button", { name: "Pause settlement" }).click();
		await page.waitForURL(/\/console\?done=paused/);
		expect(await page.locator("#settlement-state").textContent()).toContain("paused");
		expect(await page.locator("#settlement-state").textContent()).toContain("checking a chain incident");
		await shot("home-paused");

		const txHash = `0x${randomBytes(32).toString("hex")}`;
		const { headers, body } = signWebhook(stack.webhookSecret, {
			tx_hash: txHash,
			amount: "6.5",
			confirmations: 15,
			chain: "bep20",
			to_address: `0x${randomBytes(20).toString("hex")}`,
			user_id: playerId,
		});
		const res = await fetch(`${stack.baseUrl}/api/v1/webhooks/bep20`, { method: "POST", headers, body });
		expect(res.status).toBe(202);
		const { tx_id } = (await res.json()) as { tx_id: string };
		await new Promise((r) => setTimeout(r, 6_000));
		const sql = neon(stack.databaseUrl);
		expect(await sql.query("SELECT id FROM deposits WHERE id = $1", [tx_id])).toEqual([]);
		expect(await balance()).toBe(before);

		await page.getByLabel("Why resume settlement").fill("incident over");
		await page.getByRole("button", { name: "Resume settlement" }).click();
		await page.waitForURL(/\/console\?done=resumed/);
		expect(await page.locator("#settlement-state").textContent()).toContain("running");
		await waitFor(async () => {
			const [row] = await sql.query("SELECT status FROM deposits WHERE id = $1", [tx_id]);
			return row?.status === "credited" ? row : undefined;
		}, "the deposit accepted while paused credited after the resume");
		expect(Number(await balance()) - Number(before)).toBeCloseTo(6.5, 8);
		await shot("home-resumed");
	});

	it("releases a held deposit to its owner from the held queue, and it is credited", async () => {
		const txId = await seedDeposit("held", "4.75");
		const before = await balance();
		await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Held" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/held`);
		await shot("held");
		await page.getByLabel(`Why release ${txId.slice(0, 8)}`).fill("transfer verified on the explorer");
		await page.getByLabel(`Credit player ${playerId.slice(0, 8)}, the deposit's owner`).check();
		await page.getByRole("button", { name: `Release deposit ${txId}` }).click();
		await page.waitForURL(/\/console\/held\?done=released/);
		expect(await page.getByRole("status").first().textContent()).toContain("Released");
		const sql = neon(stack.databaseUrl);
		await waitFor(async () => {
			const [row] = await sql.query("SELECT status FROM deposits WHERE id = $1", [txId]);
			return row?.status === "credited" ? row : undefined;
		}, "the released deposit credited");
		expect(Number(await balance()) - Number(before)).toBeCloseTo(4.75, 8);
		await shot("held-released");
	});

	it("resolves a reversal shortfall with a note and unfreezes the player", async () => {
		const txId = await seedDeposit("reversed", "30");
		const sql = neon(stack.databaseUrl);
		const [shortfall] = await sql.query(
			// As settlement books it for an active player: this shortfall is what froze them.
			"INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency, froze_user) VALUES ($1, $2, 9.25, 'USDT', true) RETURNING id",
			[txId, playerId],
		);
		await sql.query("UPDATE users SET status = 'FROZEN' WHERE id = $1", [playerId]);
		await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Shortfalls" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/shortfalls`);
		expect(await page.getByRole("table").textContent()).toContain("9.25000000 USDT");
		await shot("shortfalls");
		await page
			.getByLabel(`What was done, for ${String(shortfall!.id).slice(0, 8)}`)
			.fill("recovered from the player's next withdrawal");
		await page.getByRole("button", { name: `Resolve shortfall ${shortfall!.id}` }).click();
		await page.waitForURL(/\/console\/shortfalls\?done=unfrozen/);
		expect(await page.getByRole("status").first().textContent()).toContain("active again");
		const [player] = await sql.query("SELECT status::text AS status FROM users WHERE id = $1", [playerId]);
		expect(player).toEqual({ status: "ACTIVE" });
		await shot("shortfalls-resolved");
	});

	it("shows the actions in the audit log", async () => {
		await page.getByRole("link", { name: "Audit log" }).click();
		const table = page.getByRole("table", { name: "Admin actions, newest first" });
		const text = (await table.textContent()) ?? "";
		expect(text).toContain("deposit.assign");
		expect(text).toContain("dead_letter.redrive");
		expect(text).toContain("admin.login");
		expect(text).toContain("deposit_conflict.resolve");
		expect(text).toContain("settlement.pause");
		expect(text).toContain("settlement.resume");
		expect(text).toContain("deposit.review");
		expect(text).toContain("reversal_shortfall.resolve");
		await page.getByLabel("Action starts with").fill("dead_letter.");
		await page.keyboard.press("Enter");
		await page.waitForURL(/action=dead_letter/);
		const filtered =
			(await page.getByRole("table", { name: "Admin actions, newest first" }).textContent()) ?? "";
		expect(filtered).toContain("dead_letter.redrive");
		expect(filtered).not.toContain("deposit.assign");
		await shot("audit");
	});

	it("reads canary against stable, the alert rules and refused webhooks on the watch page", async () => {
		// By keyboard: from the navigation's Watch link.
		await page.getByRole("link", { name: "Watch" }).focus();
		await page.keyboard.press("Enter");
		await page.waitForURL(`${stack.baseUrl}/console/watch`);
		expect(await page.getByRole("heading", { name: "Watch", level: 1 }).count()).toBe(1);
		const edge = page.getByRole("table", { name: "Versions of cricalgo-edge in its current deployment" });
		const stable = edge.getByRole("row", { name: new RegExp(STABLE) });
		const canary = edge.getByRole("row", { name: new RegExp(CANARY) });
		expect(await stable.textContent()).toContain("stable");
		expect(await stable.textContent()).toContain("75 %");
		expect(await canary.textContent()).toContain("canary");
		expect(await canary.textContent()).toContain("2.0 %");
		expect(await canary.textContent()).toContain("2.60 s");
		const gate = page.getByRole("region", { name: "Rollout gate, cricalgo-edge" });
		expect(await gate.getByRole("status").textContent()).toContain("Rollout gate on the canary: roll back.");
		const api = page.getByRole("table", { name: "Versions of cricalgo-api in its current deployment" });
		expect(await api.getByRole("row", { name: new RegExp(API) }).textContent()).toContain("180 ms");
		const consumer = page.getByRole("table", {
			name: "Versions of cricalgo-queue-consumer in its current deployment",
		});
		expect(await consumer.getByRole("row", { name: new RegExp(CONSUMER) }).textContent()).toContain("1.70 s");
		const rules = page.getByRole("table", { name: "Alert rules, firing first" });
		const spike = rules.getByRole("row", { name: /WebhookRefusalSpike/ });
		expect(await spike.textContent()).toContain("firing");
		expect(await spike.textContent()).toContain("Runbook:");
		// Firing first: the spike is the first rule listed.
		expect(await rules.getByRole("row").nth(1).textContent()).toContain("WebhookRefusalSpike");
		const refused = page.getByRole("table", { name: "Refused webhooks by source and reason, most first" });
		expect(await refused.getByRole("row", { name: /original/ }).textContent()).toContain(
			"signature_mismatch",
		);
		await shot("watch");
		// Another window, by its label.
		await page.getByLabel("Window").selectOption({ label: "last 60 minutes" });
		await page.getByRole("button", { name: "Show" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/watch?minutes=60`);
		expect(await page.getByRole("table", { name: "Alert rules, firing first" }).count()).toBe(1);
	});

	it("signs out, after which a page leads to the sign-in; no page logged an error (a CSP violation would)", async () => {
		await page.getByRole("button", { name: "Sign out" }).click();
		await page.waitForURL(`${stack.baseUrl}/console/sign-in`);
		await page.goto(`${stack.baseUrl}/console/audit`);
		expect(new URL(page.url()).pathname).toBe("/console/sign-in");
		expect(consoleErrors).toEqual([]);
	});
});
