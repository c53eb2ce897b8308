import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { adminWithToken, call, json, seedCredit, seedDeposit, sql, userWithToken } from "./support/accounts";
import { seedAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("GET /api/v1/wallet", () => {
	it("shows balances as exact decimal strings, beyond what a float can hold", async () => {
		const user = await userWithToken();
		await seedAddress(user.id, "tron", "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8");
		const a = await seedDeposit({ userId: user.id, status: "credited", amount: "12345678901234.12345678" });
		const b = await seedDeposit({ userId: user.id, status: "credited", amount: "0.00000001" });
		await seedCredit(user.id, a, "12345678901234.12345678");
		await seedCredit(user.id, b, "0.00000001");
		await sql().query(
			"UPDATE wallets SET bonus_balance = '5.1', winning_balance = '0.2' WHERE user_id = $1",
			[user.id],
		);

		const res = await call("/api/v1/wallet", { token: user.token });
		expect(res.status).toBe(200);
		expect(await json(res)).toEqual({
			currency: "USDT",
			deposit_balance: "12345678901234.12345679",
			winning_balance: "0.20000000",
			bonus_balance: "5.10000000",
			total_balance: "12345678901239.42345679",
			updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
			deposit_addresses: [
				{
					family: "tron",
					chains: ["trc20"],
					address: "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
					origin: "admin",
					issued_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/),
				},
			],
		});
	});
});

describe("GET /api/v1/transactions", () => {
	it("lists the caller's ledger rows newest first", async () => {
		const user = await userWithToken();
		const d = await seedDeposit({ userId: user.id, status: "credited", amount: "3.5" });
		await seedCredit(user.id, d, "3.5", "2026-01-01T00:00:00Z");
		await sql().query(
			`INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id, created_at)
			 VALUES ($1, 'deposit_reversal', '1.25', 'deposit', $2, '2026-01-02T00:00:00Z')`,
			[user.id, d],
		);
		const body = await json(await call("/api/v1/transactions", { token: user.token }));
		expect(body).toEqual({
			items: [
				expect.objectContaining({
					type: "deposit_reversal",
					amount: "1.25000000",
					related_id: d,
					created_at: "2026-01-02T00:00:00.000000Z",
				}),
				expect.objectContaining({
					type: "deposit",
					amount: "3.50000000",
					currency: "USDT",
					related_entity: "deposit",
					related_id: d,
					metadata: { source: "test" },
					created_at: "2026-01-01T00:00:00.000000Z",
				}),
			],
			next_cursor: null,
		});
	});

	it("pages with a cursor without skipping or repeating rows, even when timestamps are equal", async () => {
		const user = await userWithToken();
		const expected: string[] = [];
		for (let i = 0; i < 7; i++) {
			const d = await seedDeposit({ userId: user.id, status: "credited", amount: `${i + 1}` });
			// Three rows share one timestamp: only the id breaks the tie.
			await seedCredit(
				user.id,
				d,
				`${i + 1}`,
				i < 3 ? "2026-03-01T12:00:00.123456Z" : `2026-03-0${i}T00:00:00Z`,
			);
			expected.push(d);
		}
		const seen: string[] = [];
		let cursor: string | null = null;
		let pages = 0;
		do {
			const query: string = cursor ? `?limit=3&cursor=${cursor}` : "?limit=3";
			const body = await json(await call(`/api/v1/transactions${query}`, { token: user.token }));
			expect(body.items.length).toBeLessThanOrEqual(3);
			seen.push(...body.items.map((t: { related_id: string }) => t.related_id));
			cursor = body.next_cursor;
			pages++;
		} while (cursor && pages < 10);
		expect(pages).toBe(3);
		expect(new Set(seen).size).toBe(7);
		expect(seen.sort()).toEqual(expected.sort());
	});

	it("filters by type", async () => {
		const user = await userWithToken();
		const d = await seedDeposit({ userId: user.id, status: "reversed" });
		await seedCredit(user.id, d, "10.5");
		await sql().query(
			"INSERT INTO transactions (user_id, tx_type, amount, related_entity, related_id) VALUES ($1, 'deposit_reversal', '10.5', 'deposit', $2)",
			[user.id, d],
		);
		const body = await json(await call("/api/v1/transactions?type=deposit_reversal", { token: user.token }));
		expect(body.items.map((t: { type: string }) => t.type)).toEqual(["deposit_reversal"]);
		const none = await json(await call("/api/v1/transactions?type=withdrawal", { token: user.token }));
		expect(none).toEqual({ items: [], next_cursor: null });
	});
});

describe("GET /api/v1/transactions/:tx_id", () => {
	it("reports a pending deposit with its confirmations and the threshold", async () => {
		const user = await userWithToken();
		const txId = await seedDeposit({ userId: user.id, status: "pending", confirmations: 3, amount: "7.77" });
		const body = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
		expect(body).toMatchObject({
			tx_id: txId,
			status: "pending",
			confirmations: 3,
			required_confirmations: 12,
			amount: "7.77000000",
			currency: "USDT",
			chain: "bep20",
			log_index: 0,
			user_id: user.id,
			credited_at: null,
		});
	});

	it("reports credited, reverted and reversed deposits", async () => {
		const user = await userWithToken();
		for (const status of ["credited", "reverted", "reversed"] as const) {
			const txId = await seedDeposit({ userId: user.id, status, confirmations: 12 });
			const body = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
			expect(body).toMatchObject({ tx_id: txId, status });
		}
	});

	it("reports a held deposit with why it is held and which inclusion it stands for", async () => {
		const user = await userWithToken();
		const txId = await seedDeposit({ userId: user.id, status: "held", confirmations: 12 });
		await sql().query(
			"UPDATE deposits SET hold_reason = 'reinclusion_unproven', inclusion = 2 WHERE id = $1",
			[txId],
		);
		const body = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
		expect(body).toMatchObject({
			tx_id: txId,
			status: "held",
			hold_reason: "reinclusion_unproven",
			inclusion: 2,
		});
	});

	it("reports a conflict with both the deposit and the disagreeing delivery", async () => {
		const user = await userWithToken();
		const txId = await seedDeposit({ userId: user.id, status: "credited", amount: "10" });
		await sql().query(
			"INSERT INTO deposit_conflicts (deposit_id, amount, currency, payload) VALUES ($1, '99', 'USDT', '{}'::jsonb)",
			[txId],
		);
		const body = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
		expect(body).toMatchObject({
			tx_id: txId,
			status: "conflict",
			deposit_status: "credited",
			amount: "10.00000000",
			conflicts: [{ amount: "99.00000000", currency: "USDT", received_at: expect.any(String) }],
		});
		await sql().query("UPDATE deposit_conflicts SET resolved_at = now() WHERE deposit_id = $1", [txId]);
		const resolved = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
		expect(resolved.status).toBe("credited");
		expect(resolved.conflicts).toBeUndefined();
	});

	it("reports a dead-lettered deposit to the player it names, without the internal reason", async () => {
		const user = await userWithToken();
		const txId = crypto.randomUUID();
		await sql().query(
			`INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts)
			 VALUES ('m-1', $1, 'dlq', 'poison: internal detail', $2::jsonb, 10)`,
			[txId, JSON.stringify({ tx_id: txId, user_id: user.id.toUpperCase() })],
		);
		const body = await json(await call(`/api/v1/transactions/${txId}`, { token: user.token }));
		expect(body).toEqual({
			tx_id: txId,
			status: "dead_lettered",
			dead_letters: [{ created_at: expect.any(String), redriven_at: null }],
		});
	});

	it("reports a dead letter to the owner of its deposit address", async () => {
		const address = "0x4444444444444444444444444444444444444444";
		const user = await userWithToken();
		await seedAddress(user.id, "evm", address);
		const txId = crypto.randomUUID();
		await sql().query(
			"INSERT INTO dead_letters (message_id, tx_id, source, reason, body) VALUES ('m-2', $1, 'consumer', 'r', $2::jsonb)",
			[txId, JSON.stringify({ chain: "bep20", to_address: address.toUpperCase().replace("0X", "0x") })],
		);
		const res = await call(`/api/v1/transactions/${txId}`, { token: user.token });
		expect((await json(res)).status).toBe("dead_lettered");
	});

	it("shows an admin any deposit, unmatched ones included, and dead letters in full", async () => {
		const admin = await adminWithToken();
		const txId = await seedDeposit({
			status: "unmatched",
			toAddress: "0x5555555555555555555555555555555555555555",
		});
		const body = await json(await call(`/api/v1/transactions/${txId}`, { token: admin.token }));
		expect(body).toMatchObject({ tx_id: txId, status: "unmatched", user_id: null });

		const lost = crypto.randomUUID();
		await sql().query(
			"INSERT INTO dead_letters (message_id, tx_id, source, reason, body) VALUES ('m-3', $1, 'dlq', 'why', '{}'::jsonb)",
			[lost],
		);
		const letters = await json(await call(`/api/v1/transactions/${lost}`, { token: admin.token }));
		expect(letters).toMatchObject({
			status: "dead_lettered",
			dead_letters: [{ source: "dlq", reason: "why", attempts: 0, redriven_at: null }],
		});
	});
});
