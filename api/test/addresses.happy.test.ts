/**
 * Deposit addresses as players and admins use them, through the real Worker: a pool imported
 * by an admin (per-address report, audit row, idempotent), the player's address issued from it
 * (the same one on every call, one per family), the wallet listing it, an admin's registration
 * to a player, and the admin views of the pool and of who holds what.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	adminWithToken,
	auditRow,
	call,
	json,
	registerUser,
	seedDeposit,
	sql,
	userWithToken,
} from "./support/accounts";
import { importPool, issueAddress, randomEvmAddress, randomTronAddress } from "./support/addresses";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

beforeEach(async () => {
	await resetDatabase(env);
});

describe("POST /api/v1/admin/deposit-addresses/pool", () => {
	it("imports addresses, reports each one, and audits the import", async () => {
		const admin = await adminWithToken();
		const a = randomEvmAddress();
		const b = randomEvmAddress();
		const checksummed = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";
		const body = await importPool(admin.token, "evm", [
			a,
			` ${b.toUpperCase().replace("0X", "0x")} `,
			checksummed,
			a,
			"0x12",
		]);
		expect(body).toEqual({
			family: "evm",
			chains: ["bep20", "erc20"],
			imported: 3,
			already_present: 1,
			invalid: 1,
			audit_log_id: expect.any(String),
			results: [
				{ address: a, outcome: "imported" },
				{ address: b, outcome: "imported" },
				{ address: checksummed.toLowerCase(), outcome: "imported" },
				{
					address: a,
					outcome: "already_present",
					state: "unissued",
					origin: "pool",
					message: "listed earlier in this request",
				},
				{
					address: "0x12",
					outcome: "invalid",
					message: expect.stringContaining("0x followed by 40 hex digits"),
				},
			],
		});
		const rows = await sql().query(
			"SELECT family, address, user_id, origin, issued_at FROM deposit_addresses ORDER BY address",
		);
		expect(rows).toEqual(
			[a, b, checksummed.toLowerCase()]
				.sort()
				.map((address) => ({ family: "evm", address, user_id: null, origin: "pool", issued_at: null })),
		);
		const audit = await auditRow(body.audit_log_id);
		expect(audit).toEqual({
			admin_id: admin.id,
			action: "deposit_address.pool_import",
			details: {
				family: "evm",
				imported: 3,
				already_present: 1,
				invalid: 1,
				addresses: [a, b, checksummed.toLowerCase()].sort(),
			},
		});
	});

	it("is idempotent: a second import of the same list imports nothing and says how each stands", async () => {
		const admin = await adminWithToken();
		const list = [randomTronAddress(), randomTronAddress()];
		await importPool(admin.token, "tron", list);
		const player = await userWithToken();
		const issued = (await json(await issueAddress(player.token, "trc20"))).address;
		const again = await importPool(admin.token, "tron", list);
		expect(again).toMatchObject({ imported: 0, already_present: 2, invalid: 0 });
		expect(again.results).toEqual(
			expect.arrayContaining(
				list.map((address) => ({
					address,
					outcome: "already_present",
					origin: "pool",
					state: address === issued ? "issued" : "unissued",
				})),
			),
		);
		expect(await sql().query("SELECT count(*)::int AS n FROM deposit_addresses")).toEqual([{ n: 2 }]);
	});

	it("takes a thousand addresses in one call, a body far larger than other admin routes take", async () => {
		const admin = await adminWithToken();
		const list = Array.from({ length: 1000 }, () => randomTronAddress());
		expect(JSON.stringify({ family: "tron", addresses: list }).length).toBeGreaterThan(30_000);
		const body = await importPool(admin.token, "tron", list);
		expect(body).toMatchObject({ imported: 1000, already_present: 0, invalid: 0 });
	});
});

describe("GET /api/v1/admin/deposit-addresses/pool", () => {
	it("counts per family what waits, what is issued, what is retired and what admins registered", async () => {
		const admin = await adminWithToken();
		await importPool(
			admin.token,
			"evm",
			Array.from({ length: 3 }, () => randomEvmAddress()),
		);
		const kept = await userWithToken();
		const gone = await userWithToken();
		await issueAddress(kept.token, "bep20");
		await issueAddress(gone.token, "bep20");
		await sql().query("DELETE FROM users WHERE id = $1", [gone.id]);
		await call("/api/v1/admin/deposit-addresses", {
			body: { user_id: kept.id, chain: "trc20", address: randomTronAddress() },
			token: admin.token,
		});
		const res = await call("/api/v1/admin/deposit-addresses/pool", { token: admin.token });
		expect(res.status).toBe(200);
		expect(await json(res)).toEqual({
			families: [
				{
					family: "evm",
					chains: ["bep20", "erc20"],
					unissued: 1,
					issued: 1,
					retired: 1,
					admin_registered: 0,
				},
				{ family: "tron", chains: ["trc20"], unissued: 0, issued: 0, retired: 0, admin_registered: 1 },
			],
		});
	});
});

describe("POST /api/v1/wallet/deposit-address", () => {
	it("issues the player an address on the first call and the same one on every call after", async () => {
		const admin = await adminWithToken();
		const pool = [randomEvmAddress(), randomEvmAddress()];
		await importPool(admin.token, "evm", pool);
		const player = await userWithToken();
		const first = await issueAddress(player.token, "bep20");
		expect(first.status).toBe(201);
		const issued = await json(first);
		expect(issued).toEqual({
			chain: "bep20",
			family: "evm",
			chains: ["bep20", "erc20"],
			address: expect.any(String),
			origin: "pool",
			issued_at: expect.stringMatching(ISO),
		});
		expect(pool).toContain(issued.address);
		const again = await issueAddress(player.token, "bep20");
		expect(again.status).toBe(200);
		expect(await json(again)).toEqual(issued);
		// The same EVM address on the other EVM chain: one owner on every EVM chain.
		const erc = await issueAddress(player.token, "ERC20");
		expect(erc.status).toBe(200);
		expect(await json(erc)).toEqual({ ...issued, chain: "erc20" });
		const [row] = await sql().query("SELECT user_id FROM deposit_addresses WHERE address = $1", [
			issued.address,
		]);
		expect(row).toEqual({ user_id: player.id });
	});

	it("issues from the oldest import first, and one address per family", async () => {
		const admin = await adminWithToken();
		const older = randomEvmAddress();
		await importPool(admin.token, "evm", [older]);
		await importPool(admin.token, "evm", [randomEvmAddress()]);
		const tron = randomTronAddress();
		await importPool(admin.token, "tron", [tron]);
		const player = await userWithToken();
		expect((await json(await issueAddress(player.token, "erc20"))).address).toBe(older);
		const t = await issueAddress(player.token, "trc20");
		expect(t.status).toBe(201);
		expect(await json(t)).toMatchObject({ chain: "trc20", family: "tron", chains: ["trc20"], address: tron });
	});
});

describe("GET /api/v1/wallet lists the player's deposit addresses", () => {
	it("with their family, the chains they receive on, their origin and when they were issued", async () => {
		const admin = await adminWithToken();
		const evm = randomEvmAddress();
		await importPool(admin.token, "evm", [evm]);
		const player = await userWithToken();
		await issueAddress(player.token, "bep20");
		const tron = randomTronAddress();
		await call("/api/v1/admin/deposit-addresses", {
			body: { user_id: player.id, chain: "trc20", address: tron },
			token: admin.token,
		});
		const wallet = await json(await call("/api/v1/wallet", { token: player.token }));
		expect(wallet.deposit_addresses).toEqual([
			{
				family: "evm",
				chains: ["bep20", "erc20"],
				address: evm,
				origin: "pool",
				issued_at: expect.stringMatching(ISO),
			},
			{
				family: "tron",
				chains: ["trc20"],
				address: tron,
				origin: "admin",
				issued_at: expect.stringMatching(ISO),
			},
		]);
	});
});

describe("POST /api/v1/admin/deposit-addresses", () => {
	it("registers an address to a player for its whole family, audits it and counts deposits already parked for it", async () => {
		const admin = await adminWithToken();
		const user = await registerUser();
		const address = "0x8888888888888888888888888888888888888888";
		await seedDeposit({ status: "unmatched", toAddress: address.toUpperCase().replace("0X", "0x") });
		await seedDeposit({ status: "unmatched", toAddress: address, chain: "erc20" });
		await seedDeposit({ status: "unmatched", toAddress: "0x9999999999999999999999999999999999999999" });
		const res = await call("/api/v1/admin/deposit-addresses", {
			body: { user_id: user.id, chain: "bep20", address: address.toUpperCase().replace("0X", "0x") },
			token: admin.token,
		});
		expect(res.status).toBe(201);
		const body = await json(res);
		expect(body).toEqual({
			id: expect.any(String),
			user_id: user.id,
			family: "evm",
			chains: ["bep20", "erc20"],
			address,
			origin: "admin",
			issued_at: expect.stringMatching(ISO),
			created_at: expect.stringMatching(ISO),
			audit_log_id: expect.any(String),
			unmatched_deposits: 2,
		});
		const audit = await auditRow(body.audit_log_id);
		expect(audit).toEqual({
			admin_id: admin.id,
			action: "deposit_address.create",
			details: {
				deposit_address_id: body.id,
				user_id: user.id,
				family: "evm",
				chain: "bep20",
				address,
				origin: "admin",
			},
		});
		// Registering moves no deposit: the parked ones stay parked for an admin to assign.
		expect(await sql().query("SELECT count(*)::int AS n FROM deposits WHERE status = 'unmatched'")).toEqual([
			{ n: 3 },
		]);
	});
});

describe("GET /api/v1/admin/deposit-addresses", () => {
	it("finds who holds an address, however its case is written, and lists a player's addresses", async () => {
		const admin = await adminWithToken();
		const evm = randomEvmAddress();
		await importPool(admin.token, "evm", [evm, randomEvmAddress()]);
		const player = await userWithToken();
		await issueAddress(player.token, "bep20");
		const held = (await json(await call("/api/v1/wallet", { token: player.token }))).deposit_addresses[0]
			.address;

		const byAddress = await json(
			await call(`/api/v1/admin/deposit-addresses?address=${held.toUpperCase().replace("0X", "0x")}`, {
				token: admin.token,
			}),
		);
		expect(byAddress).toEqual({
			items: [
				{
					id: expect.any(String),
					family: "evm",
					chains: ["bep20", "erc20"],
					address: held,
					user_id: player.id,
					origin: "pool",
					state: "issued",
					issued_at: expect.stringMatching(ISO),
					created_at: expect.stringMatching(ISO),
				},
			],
			next_cursor: null,
		});
		const byPlayer = await json(
			await call(`/api/v1/admin/deposit-addresses?user_id=${player.id}`, { token: admin.token }),
		);
		expect(byPlayer.items.map((i: { address: string }) => i.address)).toEqual([held]);
		const page = await json(
			await call("/api/v1/admin/deposit-addresses?family=evm&limit=1", { token: admin.token }),
		);
		expect(page.items).toHaveLength(1);
		const rest = await json(
			await call(`/api/v1/admin/deposit-addresses?family=evm&limit=1&cursor=${page.next_cursor}`, {
				token: admin.token,
			}),
		);
		expect(rest).toMatchObject({ items: [expect.any(Object)], next_cursor: null });
		expect(new Set([page.items[0].address, rest.items[0].address]).size).toBe(2);
	});
});
