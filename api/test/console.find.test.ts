/**
 * The console's search and a deposit's page, inside workerd: every kind of name an operator may
 * type finds the deposit or the player, and the deposit's page tells what happened to it
 * (deliveries, ledger rows, conflicts, dead letters, admin actions).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { seedCredit, seedDeposit, sql } from "./support/accounts";
import { signedIn } from "./support/console";

beforeEach(() => resetDatabase(env));

async function player(telegramId = 0) {
	const [row] = await sql().query(
		"INSERT INTO users (username, telegram_id) VALUES ($1, $2) RETURNING id, username",
		[`Find_${crypto.randomUUID().slice(0, 8)}`, telegramId],
	);
	await sql().query("INSERT INTO wallets (user_id) VALUES ($1)", [row!.id]);
	return row as { id: string; username: string };
}

async function delivery(txId: string, webhookId: string) {
	await sql().query(
		`INSERT INTO deposit_deliveries (deposit_id, webhook_id, message_id, attempts, status, confirmations, amount,
			currency, source, edge_version, consumer_version, received_at)
		VALUES ($1, $2, $3, 1, 'pending', 3, 10.5, 'USDT', 'cricalgo', 'edge-v1', 'consumer-v1', now())`,
		[txId, webhookId, `q-${webhookId}`],
	);
}

describe("console search", () => {
	it("opens the deposit's page for its hash (any case), tx_id, webhook id or an earlier delivery's webhook id", async () => {
		const { browser } = await signedIn();
		const hash = `0x${"ab".repeat(32)}`;
		const txId = await seedDeposit({ txHash: hash, status: "pending", confirmations: 3 });
		await delivery(txId, "msg_first_delivery");
		const [{ webhook_id }] = (await sql().query("SELECT webhook_id FROM deposits WHERE id = $1", [txId])) as [
			{ webhook_id: string },
		];
		for (const q of [
			hash,
			hash.toUpperCase().replace("0X", "0x"),
			txId,
			txId.toUpperCase(),
			webhook_id,
			"msg_first_delivery",
		]) {
			const res = await browser.request(`/console/search?q=${encodeURIComponent(` ${q} `)}`);
			expect(res.status, q).toBe(303);
			expect(res.headers.get("location"), q).toBe(`/console/deposits/${txId}`);
		}
	});

	it("finds a player by username (any case), Telegram id, id or deposit address, with their deposits", async () => {
		const { browser } = await signedIn();
		const p = await player(7_123_456_789);
		const address = "0x8ba1f109551bd432803012645ac136ddd64dba72";
		await sql().query(
			"INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at) VALUES ('evm', $1, $2, 'admin', now())",
			[address, p.id],
		);
		const txId = await seedDeposit({
			userId: p.id,
			status: "credited",
			confirmations: 12,
			toAddress: address,
		});
		for (const q of [
			p.username.toLowerCase(),
			"7123456789",
			p.id,
			address.toUpperCase().replace("0X", "0x"),
		]) {
			const res = await browser.request(`/console/search?q=${encodeURIComponent(q)}`);
			expect(res.status, q).toBe(200);
			const html = await res.text();
			expect(html, q).toContain(`href="/console/players/${p.id}"`);
		}
		const page = await (await browser.request(`/console/players/${p.id}`)).text();
		expect(page).toContain(address);
		expect(page).toContain(txId);
	});

	it("says when nothing matches, and never a player with Telegram id 0 for the text 0", async () => {
		const { browser } = await signedIn();
		await player(0);
		for (const q of ["0", "0xdoesnotexist", "nobody_by_this_name"]) {
			const res = await browser.request(`/console/search?q=${encodeURIComponent(q)}`);
			expect(res.status, q).toBe(200);
			expect(await res.text(), q).toContain("Nothing matches");
		}
	});
});

describe("a deposit's page", () => {
	it("tells the whole story: deliveries, ledger rows, conflicts, dead letters and admin actions", async () => {
		const { browser, admin } = await signedIn();
		const p = await player();
		const txId = await seedDeposit({ userId: p.id, status: "credited", amount: "10.5", confirmations: 12 });
		await delivery(txId, "msg_story_delivery");
		await seedCredit(p.id, txId, "10.5");
		await sql().query(
			"INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload) VALUES ($1, 99, 'USDT', 'msg_conflicting', '{}')",
			[txId],
		);
		await sql().query(
			"INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts) VALUES ('dl-story', $1, 'consumer', 'not a valid deposit message: amount', '{}', 1)",
			[txId],
		);
		await sql().query(
			"INSERT INTO audit_logs (admin_id, action, details) VALUES ($1, 'deposit.assign', jsonb_build_object('tx_id', $2::text))",
			[admin.id, txId],
		);
		const res = await browser.request(`/console/deposits/${txId}`);
		expect(res.status).toBe(200);
		const html = await res.text();
		for (const expected of [
			"msg_story_delivery",
			"edge-v1",
			"consumer-v1",
			"10.50000000 USDT",
			"99.00000000 USDT",
			"msg_conflicting",
			"not a valid deposit message: amount",
			"deposit.assign",
			admin.username,
			p.username,
		]) {
			expect(html).toContain(expected);
		}
	});

	it("answers 404 for an unknown or malformed tx_id", async () => {
		const { browser } = await signedIn();
		expect((await browser.request(`/console/deposits/${crypto.randomUUID()}`)).status).toBe(404);
		expect((await browser.request("/console/deposits/not-a-uuid")).status).toBe(404);
		expect((await browser.request("/console/players/not-a-uuid")).status).toBe(404);
	});
});
