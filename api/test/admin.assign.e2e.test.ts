/**
 * End to end through the real local queue and the real consumer: a final deposit nobody can
 * be found for is parked as unmatched; an admin assigns it to a player, and the consumer
 * credits it exactly once. A second assign is refused, and the ledger holds. Admins racing to
 * assign one deposit to different players: exactly one wins, and the audit log names only the
 * winner as the one it was assigned to.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { adminWithToken, call, expectError, registerUser, sql } from "./support/accounts";

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

		const audit = await sql().query(
			"SELECT action, details->>'outcome' AS outcome FROM audit_logs WHERE action LIKE 'deposit.assign%' ORDER BY created_at",
		);
		expect(audit).toEqual([
			{ action: "deposit.assign", outcome: "assigned" },
			{ action: "deposit.assign", outcome: "refused" },
		]);
		await assertLedgerInvariants(ledgerQuery(env), {
			acceptedTxIds: [txId],
		});
	});
});

describe("admins racing to assign one deposit", () => {
	it("lets exactly one assign win; the others get 409 naming the state, and the audit names only the winner", async () => {
		const players = await Promise.all([1, 2, 3, 4, 5, 6].map(() => registerUser()));
		const admins = await Promise.all([1, 2, 3].map(() => adminWithToken()));
		const res = await exports.default.fetch(WEBHOOK_URL, signedInit(watcherDeposit({ amount: "31.5" })));
		expect(res.status).toBe(202);
		const { tx_id: txId } = (await res.json()) as { tx_id: string };
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "unmatched", user_id: null }),
			{ timeout: 15_000, interval: 100 },
		);

		// Every player at once, each by one of three admins, through the real Worker.
		const answers = await Promise.all(
			players.map((player, i) =>
				call(`/api/v1/admin/deposits/${txId}/assign`, {
					token: admins[i % admins.length]!.token,
					body: { user_id: player.id },
				}),
			),
		);
		const statuses = answers.map((a) => a.status);
		expect(statuses.filter((s) => s === 202)).toHaveLength(1);
		expect(statuses.filter((s) => s === 409)).toHaveLength(players.length - 1);
		const winner = players[statuses.indexOf(202)]!;
		for (const answer of answers.filter((a) => a.status === 409)) {
			const error = await expectError(answer, 409, "conflict");
			// Assigned to the winner (and perhaps already credited by the time it was refused).
			expect(["unmatched", "credited"]).toContain(error.deposit_status);
			expect(error.user_id).toBe(winner.id);
			expect(error.message).toContain(winner.id);
		}

		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "credited", user_id: winner.id }),
			{ timeout: 15_000, interval: 100 },
		);
		const balances = await sql().query(
			"SELECT user_id, deposit_balance::text AS balance FROM wallets WHERE user_id = ANY ($1::uuid[])",
			[players.map((p) => p.id)],
		);
		for (const row of balances) {
			expect(row.balance).toBe(row.user_id === winner.id ? "31.50000000" : "0.00000000");
		}

		// One audit row per attempt: the winner's says assigned, every other says refused and
		// names the winner as the holder, never its own player.
		const audit = await sql().query(
			`SELECT details->>'outcome' AS outcome, details->>'requested_user_id' AS requested,
				details->>'assigned_user_id' AS assigned
			 FROM audit_logs WHERE action = 'deposit.assign'`,
		);
		expect(audit).toHaveLength(players.length);
		expect(audit.filter((a) => a.outcome === "assigned")).toEqual([
			{ outcome: "assigned", requested: winner.id, assigned: winner.id },
		]);
		for (const row of audit.filter((a) => a.outcome !== "assigned")) {
			expect(row).toEqual({ outcome: "refused", requested: expect.any(String), assigned: winner.id });
			expect(row.requested).not.toBe(winner.id);
		}
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: [txId] });
	});
});
