/**
 * Deposit addresses refused, through the real Worker: each refusal in the one error shape, and
 * nothing changed by it. An empty pool is a retryable 503 that succeeds once addresses are
 * imported.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { REQUEST } from "../../schema/metrics";
import { resetDatabase } from "../../test/support/database";
import {
	adminWithToken,
	call,
	count,
	expectError,
	json,
	registerUser,
	sql,
	userWithToken,
} from "./support/accounts";
import { importPool, issueAddress, randomEvmAddress, randomTronAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("issuing a player's address", () => {
	it("answers an empty pool with a retryable 503 that names the family, and succeeds once addresses are imported", async () => {
		const admin = await adminWithToken();
		await importPool(admin.token, "tron", [randomTronAddress()]);
		const player = await userWithToken();
		const empty = await issueAddress(player.token, "bep20");
		expect(empty.headers.get("Retry-After")).toBe("5");
		const error = await expectError(empty, 503, "address_pool_empty");
		expect(error).toMatchObject({
			family: "evm",
			message: expect.stringContaining("import more evm addresses"),
		});
		expect(await count("deposit_addresses", "user_id IS NOT NULL")).toBe(0);

		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		const retried = await issueAddress(player.token, "bep20");
		expect(retried.status).toBe(201);
		expect((await json(retried)).address).toBe(address);
	});

	it("counts an empty pool in the request's metrics under its own error code, for operators to watch", async () => {
		const player = await userWithToken();
		const points: { blobs: string[]; doubles: number[] }[] = [];
		const metrics = { writeDataPoint: (p: (typeof points)[number]) => void points.push(p) };
		const res = await call("/api/v1/wallet/deposit-address", {
			body: { chain: "trc20" },
			token: player.token,
			envOverrides: { METRICS: metrics as unknown as AnalyticsEngineDataset },
		});
		await expectError(res, 503, "address_pool_empty");
		const blob = (column: string) => points[0]!.blobs[Number(column.replace(/^\D+/, "")) - 1];
		const double = (column: string) => points[0]!.doubles[Number(column.replace(/^\D+/, "")) - 1];
		expect(points).toHaveLength(1);
		expect({
			route: blob(REQUEST.route),
			errorCode: blob(REQUEST.errorCode),
			status: double(REQUEST.status),
		}).toEqual({ route: "/api/v1/wallet/deposit-address", errorCode: "address_pool_empty", status: 503 });
	});

	it("refuses an unknown chain, a missing body, a token of no player, a disabled or deleted account", async () => {
		const admin = await adminWithToken();
		await importPool(admin.token, "evm", [randomEvmAddress(), randomEvmAddress()]);
		const player = await userWithToken();
		const bad = await expectError(await issueAddress(player.token, "polygon"), 422, "validation_failed");
		expect(bad.fields).toEqual([{ path: "chain", message: "must be one of bep20, erc20, trc20" }]);
		await expectError(
			await call("/api/v1/wallet/deposit-address", { method: "POST", token: player.token }),
			415,
			"unsupported_media_type",
		);
		await expectError(
			await call("/api/v1/wallet/deposit-address", { body: { chain: "bep20" } }),
			401,
			"unauthorized",
		);
		await expectError(await issueAddress(admin.token, "bep20"), 403, "forbidden");

		const disabled = await userWithToken();
		await sql().query("UPDATE users SET status = 'DISABLED' WHERE id = $1", [disabled.id]);
		await expectError(await issueAddress(disabled.token, "bep20"), 403, "forbidden");
		const deleted = await userWithToken();
		await sql().query("DELETE FROM users WHERE id = $1", [deleted.id]);
		await expectError(await issueAddress(deleted.token, "bep20"), 401, "unauthorized");
		expect(await count("deposit_addresses", "issued_at IS NOT NULL")).toBe(0);
	});

	it("never issues again an address whose player's account was deleted", async () => {
		const admin = await adminWithToken();
		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		const first = await userWithToken();
		expect((await json(await issueAddress(first.token, "bep20"))).address).toBe(address);
		await sql().query("DELETE FROM users WHERE id = $1", [first.id]);
		const second = await userWithToken();
		await expectError(await issueAddress(second.token, "bep20"), 503, "address_pool_empty");
		expect(
			await sql().query("SELECT user_id, issued_at IS NOT NULL AS issued FROM deposit_addresses"),
		).toEqual([{ user_id: null, issued: true }]);
	});
});

describe("pool import errors", () => {
	it("refuses an unknown family, an empty list, more than 1,000 addresses and a body that is not JSON, importing nothing", async () => {
		const admin = await adminWithToken();
		const post = (body: unknown) =>
			call("/api/v1/admin/deposit-addresses/pool", { body, token: admin.token });
		const family = await expectError(
			await post({ family: "bep20", addresses: [randomEvmAddress()] }),
			422,
			"validation_failed",
		);
		expect(family.fields).toEqual([{ path: "family", message: expect.stringContaining('"evm"') }]);
		const none = await expectError(await post({ family: "evm", addresses: [] }), 422, "validation_failed");
		expect(none.fields).toEqual([{ path: "addresses", message: "list at least one address" }]);
		const many = await expectError(
			await post({ family: "evm", addresses: Array.from({ length: 1001 }, () => "0x1") }),
			422,
			"validation_failed",
		);
		expect(many.fields).toEqual([
			{ path: "addresses", message: "at most 1000 addresses per call; split the list" },
		]);
		await expectError(await post("not json"), 400, "bad_request");
		expect(await count("deposit_addresses")).toBe(0);
		expect(await count("audit_logs", "action = 'deposit_address.pool_import'")).toBe(0);
	});

	it("reports every invalid address with why, and imports the valid ones beside them", async () => {
		const admin = await adminWithToken();
		const good = randomEvmAddress();
		const body = await importPool(admin.token, "evm", [
			good,
			randomTronAddress(),
			"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD",
			42,
			"x".repeat(200),
		]);
		expect(body).toMatchObject({ imported: 1, already_present: 0, invalid: 4 });
		expect(body.results.map((r: { outcome: string; message?: string }) => [r.outcome, r.message])).toEqual([
			["imported", undefined],
			["invalid", expect.stringContaining("0x followed by 40 hex digits")],
			["invalid", expect.stringContaining("EIP-55 checksum")],
			["invalid", "must be a string"],
			["invalid", expect.stringContaining("0x followed by 40 hex digits")],
		]);
		expect(await sql().query("SELECT address FROM deposit_addresses")).toEqual([{ address: good }]);
	});

	it("refuses a body over 64 KiB with 413, and other admin bodies over 8 KiB", async () => {
		const admin = await adminWithToken();
		const huge = { family: "evm", addresses: Array.from({ length: 1600 }, () => randomEvmAddress()) };
		await expectError(
			await call("/api/v1/admin/deposit-addresses/pool", { body: huge, token: admin.token }),
			413,
			"payload_too_large",
		);
		const player = await registerUser();
		await expectError(
			await call("/api/v1/admin/deposit-addresses", {
				body: { user_id: player.id, chain: "bep20", address: randomEvmAddress(), padding: "x".repeat(9000) },
				token: admin.token,
			}),
			413,
			"payload_too_large",
		);
		expect(await count("deposit_addresses")).toBe(0);
	});
});

describe("admin registration errors", () => {
	it("answers 409 naming the holder, 422 for a wrong-family address or an unknown user", async () => {
		const admin = await adminWithToken();
		const holder = await registerUser();
		const other = await registerUser();
		const address = "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
		const register = (body: Record<string, unknown>) =>
			call("/api/v1/admin/deposit-addresses", { body, token: admin.token });
		expect((await register({ user_id: holder.id, chain: "bep20", address })).status).toBe(201);
		const taken = await expectError(
			await register({
				user_id: other.id,
				chain: "bep20",
				address: address.toUpperCase().replace("0X", "0x"),
			}),
			409,
			"conflict",
		);
		expect(taken).toMatchObject({ user_id: holder.id, origin: "admin", state: "issued" });
		const wrongFamily = await expectError(
			await register({ user_id: other.id, chain: "trc20", address }),
			422,
			"validation_failed",
		);
		expect(wrongFamily.fields).toEqual([
			{ path: "address", message: expect.stringContaining("TRON address") },
		]);
		const nobody = await expectError(
			await register({ user_id: crypto.randomUUID(), chain: "bep20", address: randomEvmAddress() }),
			422,
			"validation_failed",
		);
		expect(nobody.fields).toEqual([{ path: "user_id", message: "no such user" }]);
		expect(await count("deposit_addresses")).toBe(1);
		expect(await count("audit_logs", "action = 'deposit_address.create'")).toBe(1);
	});

	it("refuses to register an address waiting in the pool, or one retired with a deleted account", async () => {
		const admin = await adminWithToken();
		const waiting = randomEvmAddress();
		const retired = randomEvmAddress();
		await importPool(admin.token, "evm", [retired]);
		const gone = await userWithToken();
		await issueAddress(gone.token, "bep20");
		await sql().query("DELETE FROM users WHERE id = $1", [gone.id]);
		await importPool(admin.token, "evm", [waiting]);
		const player = await registerUser();
		for (const [address, state, text] of [
			[waiting, "unissued", "POST /api/v1/wallet/deposit-address"],
			[retired, "retired", "never issued twice"],
		] as const) {
			const error = await expectError(
				await call("/api/v1/admin/deposit-addresses", {
					body: { user_id: player.id, chain: "erc20", address },
					token: admin.token,
				}),
				409,
				"conflict",
			);
			expect(error).toMatchObject({
				user_id: null,
				origin: "pool",
				state,
				message: expect.stringContaining(text),
			});
		}
		expect(await count("deposit_addresses", "user_id IS NOT NULL")).toBe(0);
	});
});
