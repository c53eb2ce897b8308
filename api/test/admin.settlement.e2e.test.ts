/**
 * Pausing settlement, through the admin API, with the real local queue and the real consumer
 * Worker behind it: webhooks accepted while paused are not credited (not even recorded), and are
 * credited exactly once after the resume; pause and resume are audited, idempotent and one of two
 * concurrent pauses wins; players and bad input are refused and change nothing.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import {
	adminWithToken,
	auditRow,
	call,
	count,
	expectError,
	json,
	sql,
	userWithToken,
} from "./support/accounts";

beforeEach(() => resetDatabase(env));

async function playerWithWallet() {
	const [row] = await sql().query(
		`WITH u AS (INSERT INTO users (username) VALUES ('paused_' || substr(md5(random()::text), 1, 8)) RETURNING id)
		 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
	);
	return row!.user_id as string;
}

async function accept(payload: Record<string, unknown>, id?: string): Promise<string> {
	const res = await exports.default.fetch(WEBHOOK_URL, signedInit(payload, id ? { id } : {}));
	expect(res.status, await res.clone().text()).toBe(202);
	return ((await res.json()) as { tx_id: string }).tx_id;
}

const balance = async (userId: string) =>
	(await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [userId]))[0]!.b;

describe("pausing settlement", () => {
	it("keeps every webhook accepted while paused, credits none of them, and credits each once after the resume", async () => {
		const admin = await adminWithToken();
		const userId = await playerWithWallet();
		const paused = await call("/api/v1/admin/settlement/pause", {
			token: admin.token,
			body: { reason: "ledger maintenance window" },
		});
		expect(paused.status).toBe(200);
		const pause = await json(paused);
		expect(pause).toMatchObject({
			ok: true,
			changed: true,
			paused: true,
			reason: "ledger maintenance window",
			paused_by: { id: admin.id, username: admin.username },
		});
		const pauseAudit = await auditRow(pause.audit_log_id);
		expect(pauseAudit).toMatchObject({
			admin_id: admin.id,
			action: "settlement.pause",
			details: { reason: "ledger maintenance window", paused_at: pause.paused_at },
		});

		const deposits = ["10.5", "20", "0.00000001"].map((amount) =>
			watcherDeposit({ amount, user_id: userId }),
		);
		const txIds: string[] = [];
		for (const d of deposits) txIds.push(await accept(d));
		// The sender retries one of them, with the same webhook id and a new one.
		expect(await accept(deposits[0]!)).toBe(txIds[0]);
		expect(await accept({ ...deposits[1]!, confirmations: 14 })).toBe(txIds[1]);

		// Several rounds of the consumer putting the batch back (PAUSED_RETRY_SECONDS = 2 locally).
		await new Promise((r) => setTimeout(r, 6_000));
		expect(await count("deposits")).toBe(0);
		expect(await count("deposit_deliveries")).toBe(0);
		expect(await count("transactions")).toBe(0);
		expect(await count("dead_letters")).toBe(0);
		expect(await balance(userId)).toBe("0.00000000");
		const status = await json(await call("/api/v1/admin/settlement", { token: admin.token }));
		expect(status).toMatchObject({ paused: true, paused_at: pause.paused_at });

		const resumed = await call("/api/v1/admin/settlement/resume", {
			token: admin.token,
			body: { reason: "maintenance done" },
		});
		expect(resumed.status).toBe(200);
		const resume = await json(resumed);
		expect(resume).toMatchObject({
			ok: true,
			changed: true,
			paused: false,
			paused_at: null,
			paused_by: null,
		});
		const resumeAudit = await auditRow(resume.audit_log_id);
		expect(resumeAudit).toMatchObject({
			admin_id: admin.id,
			action: "settlement.resume",
			details: { reason: "maintenance done", pause_reason: "ledger maintenance window", paused_by: admin.id },
		});

		await vi.waitFor(async () => expect(await balance(userId)).toBe("30.50000001"), {
			timeout: 20_000,
			interval: 200,
		});
		// Still exactly once, after every copy and redelivery has had its turn.
		await new Promise((r) => setTimeout(r, 3_000));
		expect(await balance(userId)).toBe("30.50000001");
		expect(await count("transactions", "tx_type = 'deposit'")).toBe(3);
		expect(await count("deposits", "status = 'credited'")).toBe(3);
		expect(await count("dead_letters")).toBe(0);
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: txIds });
	});

	it("is idempotent: a second pause or resume changes nothing and writes no audit row", async () => {
		const admin = await adminWithToken();
		const body = { reason: "checking the chain" };
		const first = await json(await call("/api/v1/admin/settlement/pause", { token: admin.token, body }));
		const second = await json(await call("/api/v1/admin/settlement/pause", { token: admin.token, body }));
		expect(first.changed).toBe(true);
		expect(second).toMatchObject({
			changed: false,
			audit_log_id: null,
			paused: true,
			paused_at: first.paused_at,
		});
		expect(await count("audit_logs", "action = 'settlement.pause'")).toBe(1);
		for (const expected of [true, false]) {
			const r = await json(await call("/api/v1/admin/settlement/resume", { token: admin.token, body }));
			expect(r).toMatchObject({ changed: expected, paused: false });
		}
		expect(await count("audit_logs", "action = 'settlement.resume'")).toBe(1);
	});

	it("lets one of two admins pausing at once pause; the other is told it is already paused", async () => {
		const [a, b] = await Promise.all([adminWithToken(), adminWithToken()]);
		const answers = await Promise.all(
			[a, b].map(async (admin) =>
				json(
					await call("/api/v1/admin/settlement/pause", {
						token: admin.token,
						body: { reason: `paused by ${admin.username}` },
					}),
				),
			),
		);
		expect(answers.map((x) => x.changed).sort()).toEqual([false, true]);
		const winner = answers.find((x) => x.changed)!;
		expect(answers.every((x) => x.paused && x.paused_at === winner.paused_at)).toBe(true);
		expect(await count("settlement_pause")).toBe(1);
		expect(await count("audit_logs", "action = 'settlement.pause'")).toBe(1);
	});

	it("refuses a player (403), no reason (422) and no token (401), and stays running", async () => {
		const admin = await adminWithToken();
		const player = await userWithToken();
		await expectError(
			await call("/api/v1/admin/settlement/pause", {
				token: player.token,
				body: { reason: "a player's try" },
			}),
			403,
			"forbidden",
		);
		await expectError(
			await call("/api/v1/admin/settlement/pause", { token: admin.token, body: { reason: "  " } }),
			422,
			"validation_failed",
		);
		await expectError(
			await call("/api/v1/admin/settlement/pause", { body: { reason: "nobody at all" } }),
			401,
			"unauthorized",
		);
		expect(await count("settlement_pause")).toBe(0);
		expect(await count("audit_logs", "action LIKE 'settlement.%'")).toBe(0);
	});
});
