/**
 * End to end: provider webhooks, signed as Moralis and Alchemy sign them, through the edge
 * Worker, the real local queue and the real consumer Worker (an auxiliary worker built from
 * queue-consumer/wrangler.toml), into wallets credited by deposit address; a transfer the
 * ledger cannot hold exactly travels the real dead-letter queue into `dead_letters`. Redeliveries
 * and replays credit nothing twice; the ledger invariants hold after each scenario.
 */
import { exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase, testDatabase } from "../../test/support/database";
import { testBindings } from "../../test/support/test-bindings";
import {
	ALCHEMY_URL,
	alchemyActivity,
	alchemyInit,
	alchemyPayload,
	MORALIS_URL,
	moralisInit,
	moralisPayload,
	moralisTransfer,
	randomAddress,
} from "./support/providers";

const sql = () => testDatabase(testBindings).sql;
const usdt = (units: bigint) => units * 10n ** 10n; // 8 decimals of USDT in BSC's 18

/**
 * A player with a wallet and a deposit address the platform issued to it from its pool (EVM
 * family: one owner on bep20 and erc20 alike).
 */
async function playerWithAddress(name: string) {
	const address = randomAddress();
	const [row] = (await sql().query(
		`WITH u AS (INSERT INTO users (username) VALUES ($1) RETURNING id),
		 w AS (INSERT INTO wallets (user_id) SELECT id FROM u)
		 INSERT INTO deposit_addresses (family, address, user_id, origin, issued_at)
		 SELECT 'evm', $2, id, 'pool', now() FROM u RETURNING user_id`,
		[`${name}_${crypto.randomUUID().slice(0, 8)}`, address],
	)) as { user_id: string }[];
	return { id: row!.user_id, address };
}

async function balances(ids: string[]) {
	const rows = (await sql().query(
		"SELECT user_id, deposit_balance::text AS balance FROM wallets WHERE user_id = ANY($1::uuid[])",
		[ids],
	)) as { user_id: string; balance: string }[];
	return Object.fromEntries(rows.map((r) => [r.user_id, r.balance]));
}

async function post(url: string, init: RequestInit) {
	const res = await exports.default.fetch(new Request(url, init));
	return {
		status: res.status,
		body: (await res.json()) as { deposits: { tx_id: string }[]; held: { tx_id: string }[] },
	};
}

beforeEach(async () => {
	await resetDatabase(testBindings);
});

describe("a multi-transfer provider webhook to credited wallets", () => {
	it("credits each Moralis transfer to the owner of its address once, and holds the one the ledger cannot store", async () => {
		const alice = await playerWithAddress("alice");
		const bob = await playerWithAddress("bob");
		const transfers = [
			moralisTransfer({ to: alice.address, value: usdt(2_550_000_000n).toString(), logIndex: "3" }),
			moralisTransfer({ to: bob.address, value: usdt(1_000_000_000n).toString(), logIndex: "4" }),
			moralisTransfer({ to: alice.address, value: "1000000000000000001", logIndex: "5" }),
			moralisTransfer({
				to: bob.address,
				value: usdt(99n).toString(),
				contract: randomAddress(),
				logIndex: "6",
			}),
		];
		const payload = moralisPayload(transfers, { confirmed: true });
		const first = await post(MORALIS_URL, moralisInit(payload));
		expect(first.status).toBe(202);
		expect(first.body.deposits).toHaveLength(2);
		expect(first.body.held).toHaveLength(1);

		// Moralis retries (retries: 1) and a replay of the same bytes: duplicates, nothing enqueued again.
		expect((await post(MORALIS_URL, moralisInit({ ...payload, retries: 1 }))).status).toBe(200);
		expect((await post(MORALIS_URL, moralisInit(payload))).status).toBe(200);

		await vi.waitFor(
			async () =>
				expect(await balances([alice.id, bob.id])).toEqual({
					[alice.id]: "25.50000000",
					[bob.id]: "10.00000000",
				}),
			{ timeout: 20_000, interval: 200 },
		);
		const [letter] = (await sql().query("SELECT tx_id, reason, body FROM dead_letters")) as {
			tx_id: string;
			reason: string;
			body: { amount: string; to_address: string };
		}[];
		expect(letter).toMatchObject({
			tx_id: first.body.held[0]!.tx_id,
			reason: expect.stringMatching(/^held at the edge for review \(amount_precision\)/),
			body: { amount: "1.000000000000000001", to_address: alice.address },
		});
		const credits = await sql().query(
			"SELECT related_id::text, amount::text FROM transactions WHERE tx_type = 'deposit' ORDER BY amount",
		);
		expect(credits).toEqual([
			{ related_id: first.body.deposits[1]!.tx_id, amount: "10.00000000" },
			{ related_id: first.body.deposits[0]!.tx_id, amount: "25.50000000" },
		]);
		await assertLedgerInvariants(ledgerQuery(testBindings), {
			acceptedTxIds: [...first.body.deposits, ...first.body.held].map((d) => d.tx_id),
		});
	});

	it("keeps a Moralis deposit pending until its confirmed webhook, whichever arrives first", async () => {
		const carol = await playerWithAddress("carol");
		const transfer = moralisTransfer({ to: carol.address, value: usdt(700_000_000n).toString() });
		const unconfirmed = await post(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer], { confirmed: false })),
		);
		const txId = unconfirmed.body.deposits[0]!.tx_id;
		await vi.waitFor(
			async () =>
				expect(await sql().query("SELECT status::text FROM deposits WHERE id = $1", [txId])).toEqual([
					{ status: "pending" },
				]),
			{ timeout: 20_000, interval: 200 },
		);
		expect(await balances([carol.id])).toEqual({ [carol.id]: "0.00000000" });
		await post(MORALIS_URL, moralisInit(moralisPayload([transfer], { confirmed: true })));
		// A late unconfirmed copy after the credit changes nothing.
		await post(MORALIS_URL, moralisInit({ ...moralisPayload([transfer], { confirmed: false }), retries: 2 }));
		await vi.waitFor(async () => expect(await balances([carol.id])).toEqual({ [carol.id]: "7.00000000" }), {
			timeout: 20_000,
			interval: 200,
		});
		await assertLedgerInvariants(ledgerQuery(testBindings), { acceptedTxIds: [txId] });
	});

	it("records an Alchemy transfer as pending with its one confirmation: Alchemy never reports finality", async () => {
		const dave = await playerWithAddress("dave");
		const payload = alchemyPayload([alchemyActivity({ to: dave.address, raw: 12_000_000n })]);
		const { status, body } = await post(ALCHEMY_URL, await alchemyInit(payload));
		expect(status).toBe(202);
		const txId = body.deposits[0]!.tx_id;
		await vi.waitFor(
			async () =>
				expect(
					await sql().query("SELECT status::text, confirmations, user_id::text FROM deposits WHERE id = $1", [
						txId,
					]),
				).toEqual([{ status: "pending", confirmations: 1, user_id: dave.id }]),
			{ timeout: 20_000, interval: 200 },
		);
		await assertLedgerInvariants(ledgerQuery(testBindings), { acceptedTxIds: [txId] });
	});
});
