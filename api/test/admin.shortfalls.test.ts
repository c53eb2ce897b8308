/**
 * The shortfalls queue, through the admin API and the console: an open shortfall is listed with
 * its frozen player; resolving it writes the note to the audit log, moves nothing in the ledger,
 * and unfreezes the player only once none of their shortfalls is open; one of two concurrent
 * resolutions wins, a repeat is refused, and so are a player, a short note, an unknown id and a
 * console form without its CSRF token.
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

/**
 * A frozen player with `n` open shortfalls, as settlement leaves a reversal it could not cover:
 * the first is the one that froze them, unless they were frozen for another reason before.
 */
async function frozenPlayer(n: number, { frozenBefore = false } = {}) {
	const [user] = await sql().query(
		`WITH u AS (INSERT INTO users (username, status) VALUES ('short_' || substr(md5(random()::text), 1, 8), 'FROZEN') RETURNING id)
		 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
	);
	const userId = user!.user_id as string;
	const ids: string[] = [];
	for (let k = 0; k < n; k++) {
		const txId = await seedDeposit({ status: "reversed", amount: "50", confirmations: 12, userId });
		const [row] = await sql().query(
			"INSERT INTO reversal_shortfalls (deposit_id, user_id, shortfall, currency, froze_user) VALUES ($1, $2, 12.5, 'USDT', $3) RETURNING id",
			[txId, userId, k === 0 && !frozenBefore],
		);
		ids.push(row!.id as string);
	}
	return { userId, ids };
}

const playerStatus = async (userId: string) =>
	(await sql().query("SELECT status::text AS s FROM users WHERE id = $1", [userId]))[0]!.s;
const open = async (userId: string) =>
	count("reversal_shortfalls", "user_id = $1 AND resolved_at IS NULL", [userId]);
const ledger = () =>
	sql().query("SELECT user_id, deposit_balance::text, winning_balance::text FROM wallets ORDER BY user_id");

describe("the shortfalls API", () => {
	it("lists open shortfalls and unfreezes the player only with the last one resolved", async () => {
		const admin = await adminWithToken();
		const { userId, ids } = await frozenPlayer(2);
		const list = await json(await call("/api/v1/admin/shortfalls", { token: admin.token }));
		expect(list.items).toHaveLength(2);
		expect(list.items[0]).toMatchObject({
			user_id: userId,
			user_status: "FROZEN",
			shortfall: "12.50000000",
			open_for_player: 2,
		});
		const before = await ledger();

		const first = await json(
			await call(`/api/v1/admin/shortfalls/${ids[0]}/resolve`, {
				token: admin.token,
				body: { note: "recovered from the player by bank transfer" },
			}),
		);
		// The one that froze the player is resolved first: the mark passes to the one still open.
		expect(first).toMatchObject({
			ok: true,
			unfrozen: false,
			froze_player: true,
			other_open_shortfalls: 1,
			user_status: "FROZEN",
		});
		expect(await playerStatus(userId)).toBe("FROZEN");

		const last = await call(`/api/v1/admin/shortfalls/${ids[1]}/resolve`, {
			token: admin.token,
			body: { note: "written off after review with finance" },
		});
		expect(last.status).toBe(200);
		const body = await json(last);
		expect(body).toMatchObject({ unfrozen: true, other_open_shortfalls: 0, user_status: "ACTIVE" });
		expect(await playerStatus(userId)).toBe("ACTIVE");
		const audit = await auditRow(body.audit_log_id);
		expect(audit).toMatchObject({
			admin_id: admin.id,
			action: "reversal_shortfall.resolve",
			details: {
				shortfall_id: ids[1],
				user_id: userId,
				note: "written off after review with finance",
				unfrozen: true,
			},
		});
		expect(await ledger()).toEqual(before);
		expect((await json(await call("/api/v1/admin/shortfalls", { token: admin.token }))).items).toEqual([]);

		await expectError(
			await call(`/api/v1/admin/shortfalls/${ids[1]}/resolve`, {
				token: admin.token,
				body: { note: "the same one once more" },
			}),
			409,
			"conflict",
		);
		expect(await count("audit_logs", "action = 'reversal_shortfall.resolve'")).toBe(2);
	});

	it("keeps a player frozen for another reason frozen when their last shortfall is resolved", async () => {
		const admin = await adminWithToken();
		const { userId, ids } = await frozenPlayer(2, { frozenBefore: true });
		for (const id of ids) {
			const body = await json(
				await call(`/api/v1/admin/shortfalls/${id}/resolve`, {
					token: admin.token,
					body: { note: "written off after review with finance" },
				}),
			);
			expect(body).toMatchObject({ ok: true, unfrozen: false, froze_player: false, user_status: "FROZEN" });
		}
		expect(await playerStatus(userId)).toBe("FROZEN");
		expect(await open(userId)).toBe(0);
	});

	it("keeps the player frozen when unfreezing is not asked", async () => {
		const admin = await adminWithToken();
		const { userId, ids } = await frozenPlayer(1);
		const body = await json(
			await call(`/api/v1/admin/shortfalls/${ids[0]}/resolve`, {
				token: admin.token,
				body: { note: "resolved, but the account stays under review", unfreeze: false },
			}),
		);
		expect(body).toMatchObject({ unfrozen: false, other_open_shortfalls: 0 });
		expect(await playerStatus(userId)).toBe("FROZEN");
	});

	it("lets one of two concurrent resolutions of a shortfall win", async () => {
		const [a, b] = await Promise.all([adminWithToken(), adminWithToken()]);
		const { userId, ids } = await frozenPlayer(1);
		const answers = await Promise.all(
			[a, b].map((admin) =>
				call(`/api/v1/admin/shortfalls/${ids[0]}/resolve`, {
					token: admin.token,
					body: { note: `resolved by ${admin.username}` },
				}),
			),
		);
		expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
		expect(await count("audit_logs", "action = 'reversal_shortfall.resolve'")).toBe(1);
		expect(await playerStatus(userId)).toBe("ACTIVE");
	});

	it("unfreezes the player when two admins resolve their last two shortfalls at once", async () => {
		const [a, b] = await Promise.all([adminWithToken(), adminWithToken()]);
		const { userId, ids } = await frozenPlayer(2);
		const answers = await Promise.all(
			[a, b].map(async (admin, k) =>
				json(
					await call(`/api/v1/admin/shortfalls/${ids[k]}/resolve`, {
						token: admin.token,
						body: { note: `resolved by ${admin.username}` },
					}),
				),
			),
		);
		expect(answers.map((x) => x.unfrozen).sort()).toEqual([false, true]);
		expect(await open(userId)).toBe(0);
		expect(await playerStatus(userId)).toBe("ACTIVE");
	});

	it("refuses a player (403), a short note (422) and an unknown id (404), changing nothing", async () => {
		const admin = await adminWithToken();
		const player = await userWithToken();
		const { userId, ids } = await frozenPlayer(1);
		const path = `/api/v1/admin/shortfalls/${ids[0]}/resolve`;
		await expectError(
			await call(path, { token: player.token, body: { note: "a player trying it" } }),
			403,
			"forbidden",
		);
		await expectError(await call("/api/v1/admin/shortfalls", { token: player.token }), 403, "forbidden");
		await expectError(
			await call(path, { token: admin.token, body: { note: "short" } }),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/admin/shortfalls/${crypto.randomUUID()}/resolve`, {
				token: admin.token,
				body: { note: "no such shortfall here" },
			}),
			404,
			"not_found",
		);
		expect(await open(userId)).toBe(1);
		expect(await playerStatus(userId)).toBe("FROZEN");
		expect(await count("audit_logs", "action = 'reversal_shortfall.resolve'")).toBe(0);
	});
});

describe("the console's shortfalls queue", () => {
	it("lists the shortfall and resolves it from the form, unfreezing the player; without the CSRF token it refuses", async () => {
		const { admin, browser } = await signedIn();
		const { userId, ids } = await frozenPlayer(1);
		const home = await (await browser.request("/console")).text();
		expect(home).toContain('href="/console/shortfalls"');
		const page = await (await browser.request("/console/shortfalls")).text();
		expect(page).toContain(ids[0]!.slice(0, 8));
		expect(page).toContain("12.50000000 USDT");
		const path = `/console/shortfalls/${ids[0]}/resolve`;
		const refused = await browser.request(path, { form: { note: "recovered in full", unfreeze: "yes" } });
		expect(refused.status).toBe(403);
		expect(await open(userId)).toBe(1);
		const csrf = await browser.csrf("/console/shortfalls");
		const res = await browser.request(path, { form: { csrf, note: "recovered in full", unfreeze: "yes" } });
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/console/shortfalls?done=unfrozen");
		expect(await playerStatus(userId)).toBe("ACTIVE");
		expect(
			await count("audit_logs", "action = 'reversal_shortfall.resolve' AND admin_id = $1", [admin.id]),
		).toBe(1);
		const again = await browser.request(path, { form: { csrf, note: "recovered in full", unfreeze: "yes" } });
		expect(again.status).toBe(409);
		expect(await again.text()).toContain("already resolved");
	});
});
