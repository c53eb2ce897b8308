import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { recordingQueue } from "../../test/support/queue";
import {
	adminWithToken,
	call,
	count,
	createAdmin,
	expectError,
	registerUser,
	seedDeposit,
	sql,
	userWithToken,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

const ADMIN_ROUTES: { method: string; path: (id: string) => string; body?: (userId: string) => unknown }[] = [
	{ method: "GET", path: () => "/api/v1/admin/deposits/unmatched" },
	{ method: "GET", path: () => "/api/v1/admin/deposits/conflicts" },
	{
		method: "POST",
		path: (id) => `/api/v1/admin/deposits/${id}/assign`,
		body: (userId) => ({ user_id: userId }),
	},
	{ method: "GET", path: () => "/api/v1/admin/deposits?status=held" },
	{
		method: "POST",
		path: () => "/api/v1/admin/deposits/attribute",
		body: (userId) => ({
			chain: "bep20",
			address: "0xcccccccccccccccccccccccccccccccccccccccc",
			user_id: userId,
		}),
	},
	{
		method: "POST",
		path: (id) => `/api/v1/admin/deposits/${id}/review`,
		body: () => ({ decision: "reject", reason: "not a transfer to the platform" }),
	},
	{ method: "GET", path: () => "/api/v1/admin/dead-letters" },
	{ method: "POST", path: (id) => `/api/v1/admin/dead-letters/${id}/redrive` },
	{
		method: "POST",
		path: () => "/api/v1/admin/deposit-addresses",
		body: (userId) => ({
			user_id: userId,
			chain: "bep20",
			address: "0xcccccccccccccccccccccccccccccccccccccccc",
		}),
	},
	{ method: "GET", path: () => "/api/v1/admin/deposit-addresses" },
	{
		method: "POST",
		path: () => "/api/v1/admin/deposit-addresses/pool",
		body: () => ({ family: "evm", addresses: ["0xdddddddddddddddddddddddddddddddddddddddd"] }),
	},
	{ method: "GET", path: () => "/api/v1/admin/deposit-addresses/pool" },
];

describe("every admin route needs an admin's token", () => {
	it("401 without a token, 401 with an expired admin token, 403 with a player's", async () => {
		const player = await userWithToken();
		const admin = await createAdmin();
		const now = Math.floor(Date.now() / 1000);
		const expired = await sign(
			{ sub: admin.id, role: "admin", iat: now - 2000, exp: now - 1000, iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		const txId = await seedDeposit({ status: "unmatched" });
		const { queue, sent } = recordingQueue();
		for (const route of ADMIN_ROUTES) {
			const base = {
				method: route.method,
				envOverrides: { DEPOSITS: queue },
				...(route.body ? { body: route.body(player.id) } : {}),
			};
			await expectError(await call(route.path(txId), base), 401, "unauthorized");
			await expectError(await call(route.path(txId), { ...base, token: expired }), 401, "unauthorized");
			await expectError(await call(route.path(txId), { ...base, token: player.token }), 403, "forbidden");
		}
		expect(sent).toEqual([]);
		expect(await count("audit_logs")).toBe(0);
		expect(await count("deposit_addresses")).toBe(0);
	});

	it("refuses a player's id dressed up as an admin by a token signed with another key", async () => {
		const player = await registerUser();
		const now = Math.floor(Date.now() / 1000);
		const forged = await sign(
			{ sub: player.id, role: "admin", iat: now, exp: now + 600, iss: "cricalgo-edge" },
			"attacker-chosen-secret-of-sufficient-length-0000",
			"HS256",
		);
		await expectError(await call("/api/v1/admin/dead-letters", { token: forged }), 401, "unauthorized");
	});

	it("does not let a validly signed admin token for a non-admin id act (the audit insert checks the admin)", async () => {
		const player = await registerUser();
		const now = Math.floor(Date.now() / 1000);
		// As if the signing key had signed a role the subject does not hold.
		const token = await sign(
			{ sub: player.id, role: "admin", iat: now, exp: now + 600, iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		const txId = await seedDeposit({ status: "unmatched" });
		const { queue, sent } = recordingQueue();
		await expectError(
			await call(`/api/v1/admin/deposits/${txId}/assign`, {
				body: { user_id: player.id },
				token,
				envOverrides: { DEPOSITS: queue },
			}),
			401,
			"unauthorized",
		);
		expect(sent).toEqual([]);
	});
});

describe("SQL metacharacters in admin input change nothing", () => {
	it("refuses them in paths, bodies and queries with 422", async () => {
		const admin = await adminWithToken();
		const player = await registerUser();
		const { queue, sent } = recordingQueue();
		const nasty = "'; UPDATE wallets SET deposit_balance = 1e9; --";
		const enc = encodeURIComponent(nasty);
		const cases: [string, Parameters<typeof call>[1]][] = [
			[`/api/v1/admin/deposits/${enc}/assign`, { body: { user_id: player.id } }],
			[`/api/v1/admin/deposits/${crypto.randomUUID()}/assign`, { body: { user_id: nasty } }],
			[`/api/v1/admin/dead-letters/${enc}/redrive`, { method: "POST" }],
			["/api/v1/admin/deposit-addresses", { body: { user_id: player.id, chain: "bep20", address: nasty } }],
			["/api/v1/admin/deposit-addresses", { body: { user_id: player.id, chain: nasty, address: "0x1" } }],
			["/api/v1/admin/deposit-addresses/pool", { body: { family: nasty, addresses: ["0x1"] } }],
			[`/api/v1/admin/deposit-addresses?user_id=${enc}`, {}],
			[`/api/v1/admin/deposit-addresses?family=${enc}`, {}],
			[`/api/v1/admin/dead-letters?include_redriven=${enc}`, {}],
			[`/api/v1/admin/deposits/unmatched?limit=${enc}`, {}],
			[`/api/v1/admin/deposits?status=${enc}`, {}],
			[`/api/v1/admin/deposits?user_id=${enc}`, {}],
			[
				`/api/v1/admin/deposits/${enc}/review`,
				{ body: { decision: "reject", reason: "a reason long enough" } },
			],
			[`/api/v1/admin/deposits/${crypto.randomUUID()}/review`, { body: { decision: nasty, reason: nasty } }],
			["/api/v1/admin/deposits/attribute", { body: { chain: "bep20", address: nasty, user_id: player.id } }],
			[
				"/api/v1/admin/deposits/attribute",
				{
					body: {
						chain: "bep20",
						address: "0xcccccccccccccccccccccccccccccccccccccccc",
						user_id: player.id,
						apply: true,
						tx_ids: [nasty],
					},
				},
			],
			[`/api/v1/admin/deposits/conflicts?cursor=${enc}`, {}],
		];
		for (const [path, options] of cases) {
			await expectError(
				await call(path, { ...options, token: admin.token, envOverrides: { DEPOSITS: queue } }),
				422,
				"validation_failed",
			);
		}
		expect(sent).toEqual([]);
		const [wallet] = await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
			player.id,
		]);
		expect(wallet!.b).toBe("0.00000000");
		expect(await count("audit_logs", "action <> 'admin.login'")).toBe(0);
	});
});
