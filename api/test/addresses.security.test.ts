/**
 * Deposit addresses attacked as a stranger would, through the real Worker: deposits sent as
 * signed webhooks go through the real local queue to the real consumer, and end with whoever
 * the address was issued to, never with whoever claims it.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { BASE, randomTxHash, signedInit } from "../../test/support/webhooks";
import {
	adminWithToken,
	call,
	count,
	expectError,
	freshIp,
	json,
	sql,
	uniqueName,
	userWithToken,
} from "./support/accounts";
import { flipCase, importPool, issueAddress, randomEvmAddress, randomTronAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

/** Sends a signed deposit webhook through the real Worker; returns its tx_id. */
async function sendDeposit(chain: string, body: Record<string, unknown>): Promise<string> {
	const res = await exports.default.fetch(new Request(`${BASE}/api/v1/webhooks/${chain}`, signedInit(body)));
	expect(res.status, await res.clone().text()).toBe(202);
	return ((await res.json()) as { tx_id: string }).tx_id;
}

async function depositOf(txId: string) {
	const [row] = await sql().query("SELECT status::text AS status, user_id FROM deposits WHERE id = $1", [
		txId,
	]);
	return row;
}

async function balanceOf(userId: string): Promise<string> {
	const [row] = await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
		userId,
	]);
	return row!.b as string;
}

describe("nobody declares an address that credits them", () => {
	it("refuses deposit_addresses at registration, naming the field and the issuing route, and creates nothing", async () => {
		const victim = randomEvmAddress();
		for (const deposit_addresses of [[{ chain: "bep20", address: victim }], [], null]) {
			const error = await expectError(
				await call("/api/v1/register", {
					body: { username: uniqueName(), password: "long-enough-pw", deposit_addresses },
					ip: freshIp(),
				}),
				422,
				"validation_failed",
			);
			expect(error.fields).toEqual([
				{
					path: "deposit_addresses",
					message: expect.stringContaining("POST /api/v1/wallet/deposit-address"),
				},
			]);
		}
		expect(await count("users")).toBe(0);
		expect(await count("deposit_addresses")).toBe(0);
	});

	it("credits a deposit to the player the address was issued to, not to a stranger who claims it", async () => {
		const admin = await adminWithToken();
		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		const owner = await userWithToken();
		expect((await json(await issueAddress(owner.token, "bep20"))).address).toBe(address);

		const stranger = await userWithToken();
		await expectError(
			await call("/api/v1/register", {
				body: { username: uniqueName(), deposit_addresses: [{ chain: "bep20", address }] },
				ip: freshIp(),
			}),
			422,
			"validation_failed",
		);

		const txId = await sendDeposit("bep20", {
			tx_hash: randomTxHash(),
			amount: "75.5",
			confirmations: 15,
			to_address: address.toUpperCase().replace("0X", "0x"),
		});
		await vi.waitFor(
			async () => expect(await depositOf(txId)).toEqual({ status: "credited", user_id: owner.id }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);
		expect(await balanceOf(owner.id)).toBe("75.50000000");
		expect(await balanceOf(stranger.id)).toBe("0.00000000");
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: [txId] });
	});
});

describe("an EVM address has one owner on every EVM chain", () => {
	it("refuses to register on erc20 an address an admin registered to another player on bep20", async () => {
		const admin = await adminWithToken();
		const first = await userWithToken();
		const second = await userWithToken();
		const address = randomEvmAddress();
		const registered = await call("/api/v1/admin/deposit-addresses", {
			body: { user_id: first.id, chain: "bep20", address },
			token: admin.token,
		});
		expect(registered.status).toBe(201);
		const taken = await expectError(
			await call("/api/v1/admin/deposit-addresses", {
				body: { user_id: second.id, chain: "erc20", address },
				token: admin.token,
			}),
			409,
			"conflict",
		);
		expect(taken).toMatchObject({ user_id: first.id, origin: "admin", state: "issued" });
		expect(taken.message).toContain("bep20, erc20");
		expect(await count("deposit_addresses")).toBe(1);
		expect(await count("audit_logs", "action = 'deposit_address.create'")).toBe(1);
	});

	it("refuses to register on erc20 a pool address issued to another player on bep20", async () => {
		const admin = await adminWithToken();
		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		const holder = await userWithToken();
		expect((await json(await issueAddress(holder.token, "bep20"))).address).toBe(address);
		const other = await userWithToken();
		const taken = await expectError(
			await call("/api/v1/admin/deposit-addresses", {
				body: { user_id: other.id, chain: "erc20", address },
				token: admin.token,
			}),
			409,
			"conflict",
		);
		expect(taken).toMatchObject({ user_id: holder.id, origin: "pool", state: "issued" });
	});

	it("credits deposits on bep20 and on erc20 to the one player the EVM address was issued to", async () => {
		const admin = await adminWithToken();
		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		const holder = await userWithToken();
		expect((await json(await issueAddress(holder.token, "erc20"))).address).toBe(address);
		const bep = await sendDeposit("bep20", {
			tx_hash: randomTxHash(),
			amount: "10",
			confirmations: 15,
			to_address: address,
		});
		const erc = await sendDeposit("erc20", {
			tx_hash: randomTxHash(),
			amount: "2.25",
			confirmations: 15,
			to_address: address,
		});
		for (const txId of [bep, erc]) {
			await vi.waitFor(
				async () => expect(await depositOf(txId)).toEqual({ status: "credited", user_id: holder.id }),
				{ timeout: 15_000, interval: 100 },
			);
		}
		expect(await balanceOf(holder.id)).toBe("12.25000000");
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: [bep, erc] });
	});
});

describe("TRON addresses keep their case and their base58check checksum holds", () => {
	it("refuses a bad checksum or a changed case at admin registration, in a pool import and in a webhook", async () => {
		const admin = await adminWithToken();
		const player = await userWithToken();
		const good = randomTronAddress();
		const lastChar = good.at(-1) === "1" ? "2" : "1";
		const badChecksum = `${good.slice(0, -1)}${lastChar}`;
		for (const address of [badChecksum, flipCase(good)]) {
			const error = await expectError(
				await call("/api/v1/admin/deposit-addresses", {
					body: { user_id: player.id, chain: "trc20", address },
					token: admin.token,
				}),
				422,
				"validation_failed",
			);
			expect(error.fields).toEqual([{ path: "address", message: expect.stringContaining("checksum") }]);

			const webhook = await exports.default.fetch(
				new Request(
					`${BASE}/api/v1/webhooks/trc20`,
					signedInit({ tx_hash: "ab".repeat(32), amount: "5", confirmations: 30, to_address: address }),
				),
			);
			const refused = await expectError(webhook, 422, "validation_failed");
			expect(refused.fields).toEqual([{ path: "to_address", message: expect.stringContaining("checksum") }]);
		}
		const pool = await importPool(admin.token, "tron", [badChecksum, good.toLowerCase(), flipCase(good)]);
		expect(pool).toMatchObject({ imported: 0, invalid: 3 });
		expect(await count("deposit_addresses")).toBe(0);
		expect(await count("deposits")).toBe(0);
	});

	it("stores a TRON address exactly as given and credits a deposit sent to it", async () => {
		const admin = await adminWithToken();
		const player = await userWithToken();
		const address = randomTronAddress();
		const res = await call("/api/v1/admin/deposit-addresses", {
			body: { user_id: player.id, chain: "trc20", address },
			token: admin.token,
		});
		expect(res.status).toBe(201);
		expect((await json(res)).address).toBe(address);
		expect(await sql().query("SELECT family, address FROM deposit_addresses")).toEqual([
			{ family: "tron", address },
		]);
		const txId = await sendDeposit("trc20", {
			tx_hash: randomTxHash().slice(2),
			amount: "3",
			confirmations: 30,
			to_address: address,
		});
		await vi.waitFor(
			async () => expect(await depositOf(txId)).toEqual({ status: "credited", user_id: player.id }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: [txId] });
	});
});

describe("issuing addresses is race-safe", () => {
	it("gives one player one address however many of its calls race", async () => {
		const admin = await adminWithToken();
		await importPool(
			admin.token,
			"evm",
			Array.from({ length: 2 }, () => randomEvmAddress()),
		);
		const player = await userWithToken();
		// More calls than addresses: none may find the pool "empty" while its own address is being issued.
		const answers = await Promise.all(
			Array.from({ length: 30 }, (_, i) => issueAddress(player.token, i % 2 ? "bep20" : "erc20")),
		);
		const statuses = answers.map((r) => r.status).sort();
		expect(statuses).toEqual([...Array(29).fill(200), 201]);
		const addresses = new Set(await Promise.all(answers.map(async (r) => (await json(r)).address)));
		expect(addresses.size).toBe(1);
		const rows = await sql().query("SELECT address FROM deposit_addresses WHERE user_id = $1", [player.id]);
		expect(rows).toEqual([{ address: [...addresses][0] }]);
		expect(await count("deposit_addresses", "issued_at IS NULL")).toBe(1);
	});

	it("never gives two players the same address, and tells the one left over to retry", async () => {
		const admin = await adminWithToken();
		const pool = Array.from({ length: 4 }, () => randomEvmAddress());
		await importPool(admin.token, "evm", pool);
		const players = await Promise.all(Array.from({ length: 5 }, () => userWithToken()));
		const answers = await Promise.all(players.map((p) => issueAddress(p.token, "erc20")));
		const issued = answers.filter((r) => r.status === 201);
		const refused = answers.filter((r) => r.status !== 201);
		expect(issued).toHaveLength(4);
		expect(refused).toHaveLength(1);
		expect(refused[0]!.headers.get("Retry-After")).toBe("5");
		await expectError(refused[0]!, 503, "address_pool_empty");
		const given = await Promise.all(issued.map(async (r) => (await json(r)).address as string));
		expect(new Set(given)).toEqual(new Set(pool));
		const owners = await sql().query(
			"SELECT count(DISTINCT user_id)::int AS n FROM deposit_addresses WHERE user_id IS NOT NULL",
		);
		expect(owners).toEqual([{ n: 4 }]);
	});
});
