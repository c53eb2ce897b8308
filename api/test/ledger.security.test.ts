import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { encodeCursor } from "../src/lib/pagination";
import {
	call,
	count,
	expectError,
	json,
	seedCredit,
	seedDeposit,
	sql,
	userWithToken,
} from "./support/accounts";
import { seedAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("a player sees only their own money", () => {
	it("answers 404 for another player's deposit, exactly as for one that does not exist", async () => {
		const alice = await userWithToken();
		const bob = await userWithToken();
		const bobs = await seedDeposit({ userId: bob.id, status: "credited" });
		const theirs = await call(`/api/v1/transactions/${bobs}`, { token: alice.token });
		const missing = await call(`/api/v1/transactions/${crypto.randomUUID()}`, { token: alice.token });
		const a = await expectError(theirs, 404, "not_found");
		const b = await expectError(missing, 404, "not_found");
		expect(a).toEqual(b);
		expect((await json(await call(`/api/v1/transactions/${bobs}`, { token: bob.token }))).status).toBe(
			"credited",
		);
	});

	it("hides unmatched deposits from players, even one sent to their address", async () => {
		const address = "0x6666666666666666666666666666666666666666";
		const alice = await userWithToken();
		await seedAddress(alice.id, "evm", address);
		const parked = await seedDeposit({ status: "unmatched", toAddress: address });
		await expectError(await call(`/api/v1/transactions/${parked}`, { token: alice.token }), 404, "not_found");
	});

	it("hides another player's dead letters", async () => {
		const alice = await userWithToken();
		const bob = await userWithToken();
		const txId = crypto.randomUUID();
		await sql().query(
			"INSERT INTO dead_letters (message_id, tx_id, source, reason, body) VALUES ('m', $1, 'dlq', 'r', $2::jsonb)",
			[txId, JSON.stringify({ user_id: bob.id })],
		);
		await expectError(await call(`/api/v1/transactions/${txId}`, { token: alice.token }), 404, "not_found");
	});

	it("lists only the caller's ledger rows, whatever cursor is forged", async () => {
		const alice = await userWithToken();
		const bob = await userWithToken();
		const d = await seedDeposit({ userId: bob.id, status: "credited" });
		await seedCredit(bob.id, d, "10.5");
		const page = await json(await call("/api/v1/transactions", { token: alice.token }));
		expect(page).toEqual({ items: [], next_cursor: null });
		const forged = encodeCursor({
			t: "2999-01-01T00:00:00.000000Z",
			id: "ffffffff-ffff-4fff-bfff-ffffffffffff",
		});
		const forgedPage = await json(
			await call(`/api/v1/transactions?cursor=${forged}`, { token: alice.token }),
		);
		expect(forgedPage.items).toEqual([]);
		const wallet = await json(await call("/api/v1/wallet", { token: alice.token }));
		expect(wallet.deposit_balance).toBe("0.00000000");
	});

	it("treats SQL metacharacters in the query, path and cursor as bad input", async () => {
		const alice = await userWithToken();
		const nasty = encodeURIComponent("deposit' OR '1'='1");
		await expectError(
			await call(`/api/v1/transactions?type=${nasty}`, { token: alice.token }),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/transactions/${encodeURIComponent("x' OR 1=1 --")}`, { token: alice.token }),
			422,
			"validation_failed",
		);
		const cursor = encodeCursor({
			t: "2026-01-01T00:00:00.000000Z'); DROP TABLE transactions; --",
			id: crypto.randomUUID(),
		});
		await expectError(
			await call(`/api/v1/transactions?cursor=${cursor}`, { token: alice.token }),
			422,
			"validation_failed",
		);
		expect(await count("transactions")).toBe(0);
		expect(await count("users")).toBe(1);
	});
});
