/**
 * Parked deposits move to a player only by an explicit, audited admin action that lists what it
 * moves, end to end through the real Worker, the real local queue and the real consumer:
 * registering or issuing an address leaves the deposits parked before it parked (also when they
 * are delivered again); `POST /api/v1/admin/deposits/attribute` lists them (dry run), then moves
 * exactly those listed, each credited once, with one audit row naming each. The ledger
 * invariants hold after each scenario.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { BASE, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import {
	adminWithToken,
	call,
	expectError,
	json,
	registerUser,
	sql,
	userWithToken,
} from "./support/accounts";
import { importPool, issueAddress, randomEvmAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

type Row = { status: string; user_id: string | null; confirmations: number | null };
async function deposit(txId: string): Promise<Row | undefined> {
	const rows = await sql().query(
		"SELECT status::text AS status, user_id, confirmations FROM deposits WHERE id = $1",
		[txId],
	);
	return rows[0] as Row | undefined;
}

async function waitFor(txId: string, expected: Partial<Row>) {
	await vi.waitFor(async () => expect(await deposit(txId)).toMatchObject(expected), {
		timeout: 15_000,
		interval: 100,
	});
}

/** Sends a signed deposit webhook through the real Worker; returns its body and tx_id. */
async function send(body: Record<string, unknown>, chain = "bep20") {
	const res = await exports.default.fetch(
		chain === "bep20" ? WEBHOOK_URL : `${BASE}/api/v1/webhooks/${chain}`,
		signedInit(body),
	);
	expect(res.status).toBe(202);
	return { body, txId: ((await res.json()) as { tx_id: string }).tx_id };
}

describe("deposits parked before their address was registered", () => {
	it("stay parked through registration and redelivery, then move exactly as the dry run listed them", async () => {
		const admin = await adminWithToken();
		const player = await registerUser();
		const address = randomEvmAddress();

		// Three final deposits to an address nobody holds yet (on both EVM chains): parked.
		const early = [
			await send(watcherDeposit({ to_address: address, amount: "10.5" })),
			await send(watcherDeposit({ to_address: address, amount: "20.25" })),
			await send(watcherDeposit({ to_address: address, amount: "7", chain: "erc20" }), "erc20"),
		];
		for (const d of early) await waitFor(d.txId, { status: "unmatched", user_id: null });
		// And one still pending then: when it is final it is parked too, not given to the player.
		const pending = await send(
			watcherDeposit({ to_address: address, amount: "3", confirmations: 2, status: "pending" }),
		);
		await waitFor(pending.txId, { status: "pending", user_id: null });

		const registered = await call("/api/v1/admin/deposit-addresses", {
			token: admin.token,
			body: { user_id: player.id, chain: "bep20", address },
		});
		expect(registered.status).toBe(201);
		expect((await json(registered)).unmatched_deposits).toBe(3);

		// Delivered again (more confirmations, and naming the player): settled, still parked.
		const first = early[0]!;
		await send({ ...first.body, confirmations: 13, user_id: player.id });
		await waitFor(first.txId, { status: "unmatched", user_id: null, confirmations: 13 });

		const dryRun = await call("/api/v1/admin/deposits/attribute", {
			token: admin.token,
			body: { chain: "bep20", address, user_id: player.id },
		});
		expect(dryRun.status).toBe(200);
		const plan = await json(dryRun);
		expect(plan).toMatchObject({
			ok: true,
			dry_run: true,
			family: "evm",
			address,
			user_id: player.id,
			more: false,
		});
		// The three, whatever order they settled in (one batch's deposits share their time).
		const listedAmounts = Object.fromEntries(
			plan.deposits.map((d: { tx_id: string; amount: string }) => [d.tx_id, d.amount]),
		);
		expect(listedAmounts).toEqual({
			[early[0]!.txId]: "10.50000000",
			[early[1]!.txId]: "20.25000000",
			[early[2]!.txId]: "7.00000000",
		});
		for (const d of early)
			expect(await deposit(d.txId)).toMatchObject({ status: "unmatched", user_id: null });

		// Parked after the dry run: not in the list, so the apply leaves it parked.
		await send({ ...pending.body, confirmations: 12, status: "confirmed" });
		await waitFor(pending.txId, { status: "unmatched", user_id: null, confirmations: 12 });
		// A deposit made after the registration is the player's at once (the address was theirs
		// when it was first seen); it is not in the list and the apply leaves it alone.
		const late = await send(watcherDeposit({ to_address: address, amount: "99" }));
		await waitFor(late.txId, { status: "credited", user_id: player.id });

		const applied = await call("/api/v1/admin/deposits/attribute", {
			token: admin.token,
			body: {
				chain: "bep20",
				address,
				user_id: player.id,
				apply: true,
				tx_ids: plan.deposits.map((d: { tx_id: string }) => d.tx_id),
			},
		});
		expect(applied.status).toBe(202);
		const result = await json(applied);
		expect(result.deposits.map((d: { tx_id: string }) => d.tx_id).sort()).toEqual(
			early.map((d) => d.txId).sort(),
		);
		for (const d of early) await waitFor(d.txId, { status: "credited", user_id: player.id });
		expect(await deposit(pending.txId)).toMatchObject({ status: "unmatched", user_id: null });

		const [wallet] = await sql().query(
			"SELECT deposit_balance::text AS balance FROM wallets WHERE user_id = $1",
			[player.id],
		);
		expect(wallet).toEqual({ balance: "136.75000000" }); // 10.5 + 20.25 + 7 + 99
		const [audit] = await sql().query(
			"SELECT admin_id, details FROM audit_logs WHERE id = $1 AND action = 'deposit.attribute'",
			[result.audit_log_id],
		);
		expect(audit!.admin_id).toBe(admin.id);
		expect(audit!.details).toMatchObject({
			outcome: "attributed",
			user_id: player.id,
			address,
			family: "evm",
		});
		expect(audit!.details.deposits.map((d: { tx_id: string }) => d.tx_id).sort()).toEqual(
			early.map((d) => d.txId).sort(),
		);

		// Applied again: they are credited now, so nothing moves, and the refusal is audited.
		const again = await expectError(
			await call("/api/v1/admin/deposits/attribute", {
				token: admin.token,
				body: { chain: "bep20", address, user_id: player.id, apply: true, tx_ids: [first.txId] },
			}),
			409,
			"conflict",
		);
		expect(again.refused).toEqual([
			{ tx_id: first.txId, reason: "the deposit is credited", status: "credited" },
		]);
		const credits = await sql().query(
			"SELECT count(*)::int AS n FROM transactions WHERE tx_type = 'deposit' AND related_id = ANY ($1::uuid[])",
			[early.map((d) => d.txId)],
		);
		expect(credits).toEqual([{ n: 3 }]);
		await assertLedgerInvariants(ledgerQuery(env), {
			acceptedTxIds: [...early.map((d) => d.txId), late.txId, pending.txId],
		});
	});

	it("stay parked when the pool issues their address to a player, until an admin attributes them", async () => {
		const admin = await adminWithToken();
		const address = randomEvmAddress();
		await importPool(admin.token, "evm", [address]);
		// A deposit to a pool address nobody was issued yet: parked.
		const parked = await send(watcherDeposit({ to_address: address, amount: "12" }));
		await waitFor(parked.txId, { status: "unmatched", user_id: null });

		const player = await userWithToken();
		const issued = await issueAddress(player.token, "bep20");
		expect(issued.status).toBe(201);
		expect((await json(issued)).address).toBe(address);
		await send({ ...parked.body, confirmations: 14 });
		await waitFor(parked.txId, { status: "unmatched", user_id: null, confirmations: 14 });
		const wallet = await json(await call("/api/v1/wallet", { token: player.token }));
		expect(wallet.deposit_balance).toBe("0.00000000");

		const plan = await json(
			await call("/api/v1/admin/deposits/attribute", {
				token: admin.token,
				body: { chain: "erc20", address, user_id: player.id },
			}),
		);
		expect(plan.deposits.map((d: { tx_id: string }) => d.tx_id)).toEqual([parked.txId]);
		const applied = await call("/api/v1/admin/deposits/attribute", {
			token: admin.token,
			body: { chain: "erc20", address, user_id: player.id, apply: true, tx_ids: [parked.txId] },
		});
		expect(applied.status).toBe(202);
		await waitFor(parked.txId, { status: "credited", user_id: player.id });
		expect((await json(await call("/api/v1/wallet", { token: player.token }))).deposit_balance).toBe(
			"12.00000000",
		);
		await assertLedgerInvariants(ledgerQuery(env), { acceptedTxIds: [parked.txId] });
	});
});
