import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { parseDepositMessage } from "../../schema/queue-message";
import { resetDatabase } from "../../test/support/database";
import { recordingQueue } from "../../test/support/queue";
import { randomTxHash } from "../../test/support/webhooks";
import { adminWithToken, auditRow, call, json, registerUser, seedDeposit, sql } from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

/** A dead letter whose body is a valid v1 message, as the DLQ consumer stores one. */
async function seedDeadLetter(
	overrides: Record<string, unknown> = {},
	messageId = `msg-${crypto.randomUUID()}`,
) {
	const body = {
		v: 1,
		tx_id: crypto.randomUUID(),
		chain: "bep20",
		tx_hash: randomTxHash(),
		log_index: 0,
		amount: "25.5",
		currency: "USDT",
		confirmations: 15,
		status: "confirmed",
		to_address: null,
		user_id: null,
		block_number: "123",
		metadata: null,
		webhook_id: "wh-1",
		received_at: "2026-11-01T10:00:00.000Z",
		...overrides,
	};
	const [row] = await sql().query(
		`INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts)
		 VALUES ($1, $2, 'dlq', 'settlement kept failing', $3::jsonb, 10) RETURNING id`,
		[messageId, body.tx_id, JSON.stringify(body)],
	);
	return { id: row!.id as string, body };
}

describe("GET /api/v1/admin/deposits/unmatched", () => {
	it("lists unmatched deposits newest first, paged", async () => {
		const admin = await adminWithToken();
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) ids.push(await seedDeposit({ status: "unmatched", amount: `${i + 1}.5` }));
		await seedDeposit({ status: "pending" });
		const first = await json(await call("/api/v1/admin/deposits/unmatched?limit=2", { token: admin.token }));
		expect(first.items).toHaveLength(2);
		expect(first.items[0]).toMatchObject({ status: "unmatched", chain: "bep20", currency: "USDT" });
		expect(first.next_cursor).toEqual(expect.any(String));
		const second = await json(
			await call(`/api/v1/admin/deposits/unmatched?limit=2&cursor=${first.next_cursor}`, {
				token: admin.token,
			}),
		);
		expect(second.items).toHaveLength(1);
		expect(second.next_cursor).toBeNull();
		const seen = [...first.items, ...second.items].map((d: { tx_id: string }) => d.tx_id);
		expect(seen.sort()).toEqual(ids.sort());
	});
});

describe("GET /api/v1/admin/deposits/conflicts", () => {
	it("lists unresolved conflicts beside the deposit they disagree with", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const txId = await seedDeposit({ userId: user.id, status: "credited", amount: "10" });
		await sql().query(
			`INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload)
			 VALUES ($1, '11', 'USDT', 'wh-x', '{"amount":"11"}'::jsonb), ($1, '12', 'USDT', 'wh-y', '{}'::jsonb)`,
			[txId],
		);
		await sql().query("UPDATE deposit_conflicts SET resolved_at = now() WHERE amount = 12");
		const body = await json(await call("/api/v1/admin/deposits/conflicts", { token: admin.token }));
		expect(body).toEqual({
			items: [
				{
					id: expect.any(String),
					tx_id: txId,
					amount: "11.00000000",
					currency: "USDT",
					webhook_id: "wh-x",
					payload: { amount: "11" },
					received_at: expect.any(String),
					deposit: expect.objectContaining({ amount: "10.00000000", status: "credited", user_id: user.id }),
				},
			],
			next_cursor: null,
		});
	});
});

describe("POST /api/v1/admin/deposits/:tx_id/assign", () => {
	it("claims the deposit for the player, audits the outcome and sends the agreed v1 message, then answers 202", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const hash = randomTxHash();
		const txId = await seedDeposit({
			status: "unmatched",
			txHash: hash,
			logIndex: 3,
			amount: "42.12345678",
			confirmations: 14,
			toAddress: "0x7777777777777777777777777777777777777777",
			metadata: { source: "watcher" },
		});
		const { queue, sent } = recordingQueue();
		const before = Date.now();
		const res = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			body: { user_id: user.id },
			token: admin.token,
			envOverrides: { DEPOSITS: queue },
		});
		expect(res.status).toBe(202);
		const body = await json(res);
		expect(body).toEqual({
			ok: true,
			tx_id: txId,
			user_id: user.id,
			outcome: "assigned",
			audit_log_id: expect.any(String),
		});

		expect(sent).toHaveLength(1);
		const message = sent[0]!;
		expect(parseDepositMessage(message).success).toBe(true);
		expect(message).toEqual({
			v: 1,
			tx_id: txId,
			chain: "bep20",
			tx_hash: hash,
			log_index: 3,
			amount: "42.12345678",
			currency: "USDT",
			confirmations: 14,
			status: "confirmed",
			to_address: "0x7777777777777777777777777777777777777777",
			user_id: user.id,
			block_number: null,
			metadata: { source: "watcher" },
			webhook_id: `admin-assign:${body.audit_log_id}`,
			received_at: expect.any(String),
		});
		expect(Date.parse(message.received_at)).toBeGreaterThanOrEqual(before - 1000);

		const audit = await auditRow(body.audit_log_id);
		expect(audit).toEqual({
			admin_id: admin.id,
			action: "deposit.assign",
			details: {
				tx_id: txId,
				requested_user_id: user.id,
				outcome: "assigned",
				deposit_status: "unmatched",
				assigned_user_id: user.id,
				chain: "bep20",
				tx_hash: hash,
				log_index: 3,
				amount: "42.12345678",
				currency: "USDT",
				confirmations: 14,
				webhook_id: `admin-assign:${body.audit_log_id}`,
			},
		});
		// The route moves no money: it fixes the owner on the row, and settlement credits that
		// owner when the message (or any later delivery) reaches it.
		const [deposit] = await sql().query(
			"SELECT status::text AS status, user_id FROM deposits WHERE id = $1",
			[txId],
		);
		expect(deposit).toEqual({ status: "unmatched", user_id: user.id });
		const listed = await json(await call("/api/v1/admin/deposits/unmatched", { token: admin.token }));
		expect(listed.items).toEqual([expect.objectContaining({ tx_id: txId, user_id: user.id })]);
	});
});

describe("GET /api/v1/admin/dead-letters", () => {
	it("lists letters not yet redriven, and all of them on request", async () => {
		const admin = await adminWithToken();
		const open = await seedDeadLetter();
		const done = await seedDeadLetter();
		await sql().query("UPDATE dead_letters SET redriven_at = now() WHERE id = $1", [done.id]);
		const body = await json(await call("/api/v1/admin/dead-letters", { token: admin.token }));
		expect(body.items).toEqual([
			expect.objectContaining({
				id: open.id,
				source: "dlq",
				attempts: 10,
				body: open.body,
				redriven_at: null,
			}),
		]);
		const all = await json(
			await call("/api/v1/admin/dead-letters?include_redriven=true", { token: admin.token }),
		);
		expect(all.items.map((d: { id: string }) => d.id).sort()).toEqual([open.id, done.id].sort());
	});
});

describe("POST /api/v1/admin/dead-letters/:id/redrive", () => {
	it("sends the stored message back onto the queue, marks the letter and audits it", async () => {
		const admin = await adminWithToken();
		const letter = await seedDeadLetter();
		const { queue, sent } = recordingQueue();
		const res = await call(`/api/v1/admin/dead-letters/${letter.id}/redrive`, {
			method: "POST",
			token: admin.token,
			envOverrides: { DEPOSITS: queue },
		});
		expect(res.status).toBe(202);
		const body = await json(res);
		expect(body).toEqual({
			ok: true,
			dead_letter_id: letter.id,
			tx_id: letter.body.tx_id,
			audit_log_id: expect.any(String),
		});
		expect(sent).toEqual([letter.body]);
		const [row] = await sql().query(
			"SELECT redriven_at IS NOT NULL AS redriven FROM dead_letters WHERE id = $1",
			[letter.id],
		);
		expect(row!.redriven).toBe(true);
		const audit = await auditRow(body.audit_log_id);
		expect(audit).toEqual({
			admin_id: admin.id,
			action: "dead_letter.redrive",
			details: { dead_letter_id: letter.id, tx_id: letter.body.tx_id, message_id: expect.any(String) },
		});
	});
});
