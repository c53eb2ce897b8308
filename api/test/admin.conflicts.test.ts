/**
 * Resolving a conflict, through the admin API and through the console: once, audited with its
 * note, race-safe, nothing in the ledger moved; refused without a note, for an unknown id, for a
 * player, and from the console without its CSRF token.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	adminWithToken,
	auditRow,
	call,
	count,
	expectError,
	json,
	seedDeposit,
	sql,
	userWithToken,
} from "./support/accounts";
import { signedIn } from "./support/console";

beforeEach(() => resetDatabase(env));

async function conflict() {
	const txId = await seedDeposit({ status: "credited", amount: "10.5", confirmations: 12 });
	const [row] = await sql().query(
		"INSERT INTO deposit_conflicts (deposit_id, amount, currency, webhook_id, payload) VALUES ($1, 99, 'USDT', 'msg_other', '{}') RETURNING id",
		[txId],
	);
	return { txId, id: row!.id as string };
}

const resolved = async (id: string) =>
	((await sql().query("SELECT resolved_at FROM deposit_conflicts WHERE id = $1", [id]))[0]!
		.resolved_at as unknown) !== null;

describe("POST /api/v1/admin/deposits/conflicts/:id/resolve", () => {
	it("resolves once with the note in the audit log and leaves the ledger alone; the status stops reporting it", async () => {
		const admin = await adminWithToken();
		const { id, txId } = await conflict();
		const before = await sql().query("SELECT amount::text, status::text FROM deposits WHERE id = $1", [txId]);
		const status = async () =>
			(await json(await call(`/api/v1/transactions/${txId}`, { token: admin.token }))).status;
		expect(await status()).toBe("conflict");
		const res = await call(`/api/v1/admin/deposits/conflicts/${id}/resolve`, {
			token: admin.token,
			body: { note: "the watcher misread the decimals" },
		});
		expect(res.status).toBe(200);
		const body = await json(res);
		expect(body).toMatchObject({ ok: true, conflict_id: id, tx_id: txId });
		expect(await resolved(id)).toBe(true);
		const audit = await auditRow(body.audit_log_id);
		expect(audit).toMatchObject({
			admin_id: admin.id,
			action: "deposit_conflict.resolve",
			details: {
				conflict_id: id,
				tx_id: txId,
				note: "the watcher misread the decimals",
				amount: "99.00000000",
			},
		});
		expect(
			await sql().query("SELECT amount::text, status::text FROM deposits WHERE id = $1", [txId]),
		).toEqual(before);
		const again = await call(`/api/v1/admin/deposits/conflicts/${id}/resolve`, {
			token: admin.token,
			body: { note: "again" },
		});
		await expectError(again, 409, "conflict");
		expect(await count("audit_logs", "action = 'deposit_conflict.resolve'")).toBe(1);
	});

	it("lets one of two concurrent resolutions win", async () => {
		const admin = await adminWithToken();
		const { id } = await conflict();
		const answers = await Promise.all(
			[1, 2].map((n) =>
				call(`/api/v1/admin/deposits/conflicts/${id}/resolve`, {
					token: admin.token,
					body: { note: `admin ${n}` },
				}),
			),
		);
		expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
		expect(await count("audit_logs", "action = 'deposit_conflict.resolve'")).toBe(1);
	});

	it("refuses an empty note (422), an unknown id (404), a player's token (403), and changes nothing", async () => {
		const admin = await adminWithToken();
		const { id } = await conflict();
		const path = `/api/v1/admin/deposits/conflicts/${id}/resolve`;
		await expectError(
			await call(path, { token: admin.token, body: { note: "  " } }),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/admin/deposits/conflicts/${crypto.randomUUID()}/resolve`, {
				token: admin.token,
				body: { note: "x" },
			}),
			404,
			"not_found",
		);
		const player = await userWithToken();
		await expectError(await call(path, { token: player.token, body: { note: "x" } }), 403, "forbidden");
		expect(await resolved(id)).toBe(false);
		expect(await count("audit_logs", "action = 'deposit_conflict.resolve'")).toBe(0);
	});
});

describe("the console's conflicts queue", () => {
	it("lists the conflict beside its deposit and resolves it with a note; without the CSRF token it refuses", async () => {
		const { browser } = await signedIn();
		const { id, txId } = await conflict();
		const page = await (await browser.request("/console/conflicts")).text();
		expect(page).toContain(txId);
		expect(page).toContain("99.00000000 USDT");
		expect(page).toContain("10.50000000 USDT");
		const refused = await browser.request(`/console/conflicts/${id}/resolve`, { form: { note: "x" } });
		expect(refused.status).toBe(403);
		expect(await resolved(id)).toBe(false);
		const csrf = await browser.csrf("/console/conflicts");
		const res = await browser.request(`/console/conflicts/${id}/resolve`, {
			form: { csrf, note: "checked on chain" },
		});
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/console/conflicts?done=resolved");
		expect(await resolved(id)).toBe(true);
		const after = await (await browser.request("/console/conflicts?done=resolved")).text();
		expect(after).toContain("No unresolved conflict");
		const again = await browser.request(`/console/conflicts/${id}/resolve`, {
			form: { csrf, note: "again" },
		});
		expect(again.status).toBe(409);
		expect(await again.text()).toContain("already resolved");
	});
});
