/**
 * The load run's exactly-once check must be able to fail: a ledger is written by hand (the
 * state a buggy settlement could leave) and each kind of damage must be reported.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeEach, describe, expect, inject, it } from "vitest";
import { checkExactlyOnce, connectLedger, createPlayers, type LedgerConnection } from "../local/ledger";

let ledger: LedgerConnection;
let players: string[];
const d1 = randomUUID();
const d2 = randomUUID();
const d3 = randomUUID();

async function deposit(id: string, userId: string, amount: string, credited: boolean) {
	await ledger.query(
		`INSERT INTO deposits (id, chain, tx_hash, amount, currency, user_id, status, confirmations,
			required_confirmations, credited_at)
		 VALUES ($1, 'bep20', $2, $3, 'USDT', $4, $5, 12, 12, CASE WHEN $6 THEN now() END)`,
		[id, `0x${id.replace(/-/g, "")}`, amount, userId, credited ? "credited" : "pending", credited],
	);
	if (!credited) return;
	await ledger.query(
		`INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id)
		 VALUES ($1, 'deposit', $2, 'USDT', 'deposit', $3)`,
		[userId, amount, id],
	);
	await ledger.query("UPDATE wallets SET deposit_balance = deposit_balance + $2 WHERE user_id = $1", [
		userId,
		amount,
	]);
}

beforeEach(async () => {
	ledger ??= await connectLedger(inject("databaseUrls").node, inject("neonEndpoint"));
	await ledger.query("TRUNCATE transactions, deposits, wallets, users CASCADE");
	players = await createPlayers(ledger.query, "check", 2);
	await deposit(d1, players[0] as string, "10.5", true);
	await deposit(d2, players[1] as string, "3.25", true);
	await deposit(d3, players[1] as string, "7", false);
});

afterAll(async () => {
	await ledger?.close();
});

describe("exactly-once check of the load run", () => {
	it("passes a ledger where every accepted deposit is credited once with its amount", async () => {
		const result = await checkExactlyOnce(
			ledger.query,
			[
				{ txId: d1, amount: "10.5", accepted: true },
				{ txId: d2, amount: "3.25", accepted: true },
				{ txId: d3, amount: "7", accepted: false },
			],
			players,
		);
		expect(result).toMatchObject({
			ok: true,
			deposits: 3,
			accepted: 2,
			credited: 2,
			creditRows: 2,
			creditedTotal: "13.75000000",
			acceptedTotal: "13.75000000",
			walletTotal: "13.75000000",
		});
	});

	it("reports an accepted deposit that was never credited", async () => {
		const result = await checkExactlyOnce(
			ledger.query,
			[
				{ txId: d1, amount: "10.5", accepted: true },
				{ txId: d3, amount: "7", accepted: true },
			],
			players,
		);
		expect(result).toMatchObject({ ok: false, acceptedNotCredited: 1 });
	});

	it("reports a credit of another amount than the one sent", async () => {
		const result = await checkExactlyOnce(
			ledger.query,
			[{ txId: d1, amount: "10.50000001", accepted: true }],
			[players[0] as string],
		);
		expect(result).toMatchObject({ ok: false, wrongAmount: 1 });
	});

	it("reports wallets that do not hold exactly what the ledger credited", async () => {
		await ledger.query(
			"UPDATE wallets SET deposit_balance = deposit_balance + 0.00000001 WHERE user_id = $1",
			[players[0]],
		);
		const result = await checkExactlyOnce(
			ledger.query,
			[
				{ txId: d1, amount: "10.5", accepted: true },
				{ txId: d2, amount: "3.25", accepted: true },
			],
			players,
		);
		expect(result).toMatchObject({ ok: false, walletTotal: "13.75000001", creditedTotal: "13.75000000" });
	});
});
