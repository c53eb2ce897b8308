import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { encodeCursor } from "../src/lib/pagination";
import { call, expectError, sql, userWithToken } from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("ledger route errors", () => {
	it("refuses out-of-range and non-numeric limits with 422", async () => {
		const user = await userWithToken();
		for (const limit of ["0", "101", "abc", "1.5", "-1"]) {
			const res = await call(`/api/v1/transactions?limit=${limit}`, { token: user.token });
			const error = await expectError(res, 422, "validation_failed");
			expect(error.fields).toEqual([expect.objectContaining({ path: "limit" })]);
		}
	});

	it("refuses a cursor it did not issue with 422", async () => {
		const user = await userWithToken();
		const notOurs = [
			"garbage",
			btoa("{}"),
			encodeCursor({ t: "yesterday", id: crypto.randomUUID() }),
			encodeCursor({ t: "2026-01-01T00:00:00.000000Z", id: "not-a-uuid" }),
		];
		for (const cursor of notOurs) {
			const res = await call(`/api/v1/transactions?cursor=${encodeURIComponent(cursor)}`, {
				token: user.token,
			});
			const error = await expectError(res, 422, "validation_failed");
			expect(error.message).toMatch(/cursor/);
		}
	});

	it("refuses a malformed type filter with 422", async () => {
		const user = await userWithToken();
		const res = await call("/api/v1/transactions?type=Deposit%20Credit", { token: user.token });
		await expectError(res, 422, "validation_failed");
	});

	it("refuses a tx_id that is not a UUID with 422, and answers 404 for an unknown one", async () => {
		const user = await userWithToken();
		await expectError(
			await call("/api/v1/transactions/12345", { token: user.token }),
			422,
			"validation_failed",
		);
		await expectError(
			await call(`/api/v1/transactions/${crypto.randomUUID()}`, { token: user.token }),
			404,
			"not_found",
		);
	});

	it("answers 404 for the wallet of an account that was deleted after its token was issued", async () => {
		const user = await userWithToken();
		await sql().query("DELETE FROM users WHERE id = $1", [user.id]);
		await expectError(await call("/api/v1/wallet", { token: user.token }), 404, "not_found");
	});
});
