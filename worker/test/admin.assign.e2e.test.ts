/**
 * End to end through the real local queue and the real consumer: a final deposit nobody can
 * be found for is parked as unmatched; an admin assigns it to a player, and the consumer
 * credits it exactly once. A second assign is refused, and the ledger holds.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { assertLedgerInvariants } from "../../test/support/ledger-invariants";
import { adminWithToken, call, expectError, registerUser, sql } from "./support/accounts";
import { signedInit, WEBHOOK_URL, watcherDeposit } from "./support/webhooks";

beforeEach(async () => {
	await resetDatabase(env);
});

async function deposit(txId: string) {
	const rows = await sql().query("SELECT status::text AS status, user_id FROM deposits WHERE id = $1", [
		txId,
	]);
	return rows[0] as { status: string; user_id: string | null } | undefined;
}

describe("assigning an unmatched deposit", () => {
	it("credits the chosen player once, through the queue and the consumer", async () => {
		const player = await registerUser();
		const admin = await adminWithToken();

		// Final, but to an address nobody registered and without a user: parked.
		const res = await exports.default.fetch(
			WEBHOOK_URL,
			signedInit(watcherDeposit({ amount: "75.12345678" })),
		);
		expect(res.status).toBe(202);
		const { tx_id: txId } = (await res.json()) as { tx_id: string };
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "unmatched", user_id: null }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);

		const assigned = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			token: admin.token,
			body: { user_id: player.id },
		});
		expect(assigned.status).toBe(202);
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "credited", user_id: player.id }),
			{ timeout: 15_000, interval: 100 },
		);

		const [wallet] = await sql().query(
			"SELECT deposit_balance::text AS balance FROM wallets WHERE user_id = $1",
			[player.id],
		);
		expect(wallet).toEqual({ balance: "75.12345678" });
		const credits = await sql().query(
			"SELECT count(*)::int AS n FROM transactions WHERE related_id = $1 AND tx_type = 'deposit'",
			[txId],
		);
		expect(credits).toEqual([{ n: 1 }]);

		const again = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			token: admin.token,
			body: { user_id: player.id },
		});
		expect((await expectError(again, 409, "conflict")).deposit_status).toBe("credited");

		const audit = await sql().query("SELECT action FROM audit_logs WHERE action LIKE 'deposit.assign%'");
		expect(audit).toEqual([{ action: "deposit.assign" }]);
		await assertLedgerInvariants(ledgerQuery(env), {
			acceptedTxIds: [txId],
		});
	});
});
