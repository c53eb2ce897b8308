/**
 * End to end: a webhook signed by the official Standard Webhooks library is accepted by the
 * edge Worker, goes through the real local queue to the real consumer Worker (an auxiliary
 * worker built from queue-consumer/wrangler.toml), and ends as a credited wallet, once,
 * however often the sender repeats it.
 */
import { exports } from "cloudflare:workers";
import { Webhook } from "standardwebhooks";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { TEST_WEBHOOK_SECRET } from "../../test/projects";
import { ledgerQuery, resetDatabase, testDatabase } from "../../test/support/database";
import { testBindings } from "../../test/support/test-bindings";

const sql = () => testDatabase(testBindings).sql;

async function postWebhook(payload: Record<string, unknown>, webhookId = `msg_${crypto.randomUUID()}`) {
	const body = JSON.stringify(payload);
	const at = new Date();
	const res = await exports.default.fetch("https://edge.test/api/v1/webhooks/bep20", {
		method: "POST",
		headers: {
			"content-type": "application/json",
			"webhook-id": webhookId,
			"webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
			"webhook-signature": new Webhook(TEST_WEBHOOK_SECRET).sign(webhookId, at, body),
		},
		body,
	});
	expect(res.status).toBe(202);
	const answer = (await res.json()) as { ok: boolean; tx_id: string };
	expect(answer.ok).toBe(true);
	return answer.tx_id;
}

async function depositStatus(txId: string) {
	const rows = await sql().query("SELECT status::text, confirmations FROM deposits WHERE id = $1", [txId]);
	return rows[0] as { status: string; confirmations: number | null } | undefined;
}

beforeEach(async () => {
	await resetDatabase(testBindings);
});

describe("from a signed webhook to a credited wallet", () => {
	it("credits the wallet once when the confirmations reach the threshold", async () => {
		const [user] = (await sql().query(
			`WITH u AS (INSERT INTO users (username) VALUES ('e2e_player') RETURNING id)
			 INSERT INTO wallets (user_id) SELECT id FROM u RETURNING user_id`,
		)) as { user_id: string }[];
		const deposit = {
			tx_hash: `0x${crypto.randomUUID().replaceAll("-", "")}${crypto.randomUUID().replaceAll("-", "")}`,
			amount: "150.75",
			chain: "bep20",
			to_address: "0x1111111111111111111111111111111111111111",
			currency: "USDT",
			user_id: user!.user_id,
			metadata: { source: "e2e" },
		};

		const txId = await postWebhook({ ...deposit, confirmations: 3 });
		await vi.waitFor(
			async () => expect(await depositStatus(txId)).toEqual({ status: "pending", confirmations: 3 }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);

		// The watcher reports the threshold; it retries the same webhook, and repeats the hash in upper case.
		const finalId = `msg_${crypto.randomUUID()}`;
		expect(await postWebhook({ ...deposit, confirmations: 12 }, finalId)).toBe(txId);
		expect(await postWebhook({ ...deposit, confirmations: 12 }, finalId)).toBe(txId);
		expect(await postWebhook({ ...deposit, tx_hash: deposit.tx_hash.toUpperCase(), confirmations: 13 })).toBe(
			txId,
		);
		await vi.waitFor(
			async () => expect(await depositStatus(txId)).toEqual({ status: "credited", confirmations: 13 }),
			{ timeout: 15_000, interval: 100 },
		);

		const [wallet] = await sql().query(
			"SELECT deposit_balance::text AS balance FROM wallets WHERE user_id = $1",
			[user!.user_id],
		);
		expect(wallet).toEqual({ balance: "150.75000000" });
		const ledger = await sql().query("SELECT tx_type, amount::text FROM transactions WHERE related_id = $1", [
			txId,
		]);
		expect(ledger).toEqual([{ tx_type: "deposit", amount: "150.75000000" }]);
		await assertLedgerInvariants(ledgerQuery(testBindings), {
			acceptedTxIds: [txId],
		});
	});
});
