/**
 * Provider webhooks over HTTP, with payloads written from the providers' documentation
 * (support/providers.ts): Moralis Streams at /api/v1/webhooks/moralis and Alchemy Notify at
 * /api/v1/webhooks/alchemy. Each scheme valid, tampered, wrong secret, rotated, replayed; several
 * transfers per request, each its own message; other tokens, outgoing and zero transfers
 * ignored and counted; amounts the ledger cannot hold exactly held for review; the test webhook.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { HeldTransfer } from "../../schema/held-transfer";
import { IGNORED } from "../../schema/metrics";
import { type DepositMessage, parseDepositMessage } from "../../schema/queue-message";
import { depositTxId } from "../../schema/tx-id";
import { TEST_ALCHEMY_SIGNING_KEY_ROTATED, TEST_MORALIS_SECRET_ROTATED } from "../../test/projects";
import { recordingQueue } from "../../test/support/queue";
import type { ErrorBody } from "../../test/support/webhooks";
import { app, MAX_PROVIDER_BODY_BYTES } from "../src/app";
import {
	ALCHEMY_URL,
	alchemyActivity,
	alchemyInit,
	alchemyPayload,
	MORALIS_TEST_WEBHOOK,
	MORALIS_URL,
	moralisInit,
	moralisPayload,
	moralisTransfer,
	randomAddress,
	USDC_ETH,
	USDT_BSC,
	USDT_ETH,
} from "./support/providers";
import { withSources } from "./support/sources";

type Answer = {
	ok: boolean;
	source?: string;
	test?: boolean;
	duplicate?: boolean;
	deposits: {
		tx_id: string;
		amount: string;
		status: string;
		confirmations: number | null;
		to_address: string;
	}[];
	held: { tx_id: string; reason: string; message: string }[];
	ignored: { field: string; reason: string }[];
} & ErrorBody;

type DataPoint = { blobs: string[]; doubles: number[] };

async function deliver(url: string, init: RequestInit, overrides: Partial<Env> = {}) {
	const deposits = recordingQueue({ forwardTo: env.DEPOSITS });
	const letters = recordingQueue({ forwardTo: env.DEAD_LETTERS });
	const points: DataPoint[] = [];
	const metrics = {
		writeDataPoint: (p: DataPoint) => void points.push(p),
	} as unknown as AnalyticsEngineDataset;
	const res = await app.request(url, init, {
		...env,
		DEPOSITS: deposits.queue,
		DEAD_LETTERS: letters.queue,
		METRICS: metrics,
		...overrides,
	});
	return {
		res,
		body: (await res.json()) as Answer,
		sent: deposits.sent as DepositMessage[],
		held: letters.sent as unknown as HeldTransfer[],
		points,
	};
}

const usdt = (whole: number) => BigInt(whole) * 10n ** 18n;

describe("Moralis Streams", () => {
	it("answers the mandatory test webhook 200, enqueueing nothing", async () => {
		const { res, body, sent } = await deliver(MORALIS_URL, moralisInit(MORALIS_TEST_WEBHOOK));
		expect(res.status).toBe(200);
		expect(body).toMatchObject({ ok: true, test: true, deposits: [], held: [], ignored: [] });
		expect(sent).toEqual([]);
	});

	it("refuses even the test webhook unsigned or signed with another secret (401): nothing is accepted unsigned", async () => {
		const unsigned = await deliver(MORALIS_URL, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body: JSON.stringify(MORALIS_TEST_WEBHOOK),
		});
		expect(unsigned.res.status).toBe(401);
		expect((await deliver(MORALIS_URL, moralisInit(MORALIS_TEST_WEBHOOK, "another-secret"))).res.status).toBe(
			401,
		);
	});

	it("turns each USDT transfer of a block into its own message, with the exact amount and the raw value kept", async () => {
		const [alice, bob] = [randomAddress(), randomAddress()];
		const transfers = [
			moralisTransfer({ to: alice, value: (usdt(25) + 5n * 10n ** 17n).toString(), logIndex: "7" }),
			moralisTransfer({ to: bob, value: "1000000000000000001", tokenDecimals: "18" }),
			moralisTransfer({ to: bob, value: "12345678900000000000", logIndex: "0" }),
		];
		// The second is 1.000000000000000001: more decimals than the ledger holds, so it is held.
		const { res, body, sent, held } = await deliver(MORALIS_URL, moralisInit(moralisPayload(transfers)));
		expect(res.status).toBe(202);
		expect(sent.map((m) => [m.to_address, m.amount, m.log_index])).toEqual([
			[alice, "25.5", 7],
			[bob, "12.3456789", 0],
		]);
		for (const [i, m] of sent.entries()) {
			expect(parseDepositMessage(m).success).toBe(true);
			expect(m).toMatchObject({
				chain: "bep20",
				status: "confirmed",
				confirmations: 18,
				currency: "USDT",
				user_id: null,
				block_number: "45120331",
				source: "moralis",
				webhook_id: expect.stringMatching(/^moralis:[0-9a-f]{64}$/),
				metadata: {
					source: "moralis",
					provider: "moralis",
					token: USDT_BSC,
					raw_value: [transfers[0], transfers[2]][i]!.value,
					stream_id: "c28d9e2e-ae9d-4fe6-9fc0-5fcde2dcdd17",
					tag: "cricalgo_deposits",
				},
			});
			expect(m.tx_id).toBe(await depositTxId("bep20", m.tx_hash, m.log_index));
			expect(body.deposits[i]).toMatchObject({ tx_id: m.tx_id, amount: m.amount, status: "confirmed" });
		}
		expect(held).toEqual([
			expect.objectContaining({
				held: true,
				hold_reason: "amount_precision",
				amount: "1.000000000000000001",
				raw_value: "1000000000000000001",
				decimals: 18,
				to_address: bob,
				tx_id: await depositTxId("bep20", transfers[1]!.transactionHash as string, 60),
			}),
		]);
		expect(body.held).toEqual([
			expect.objectContaining({
				reason: "amount_precision",
				message: expect.stringMatching(/more than 8 decimals/),
			}),
		]);
	});

	it("maps confirmed: false then true (or true then false) to pending with 1 and confirmed with the chain's depth", async () => {
		const transfer = moralisTransfer({ to: randomAddress(), value: usdt(3).toString() });
		const unconfirmed = await deliver(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer], { confirmed: false })),
		);
		const confirmed = await deliver(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer], { confirmed: true })),
		);
		expect(unconfirmed.sent[0]).toMatchObject({ status: "pending", confirmations: 1 });
		expect(confirmed.sent[0]).toMatchObject({ status: "confirmed", confirmations: 18 });
		expect(confirmed.sent[0]!.tx_id).toBe(unconfirmed.sent[0]!.tx_id);
		// Ethereum's depth is 12 blocks, and USDT has 6 decimals there.
		const eth = moralisTransfer({
			to: randomAddress(),
			value: "2500000",
			contract: USDT_ETH,
			tokenDecimals: "6",
		});
		const onEth = await deliver(MORALIS_URL, moralisInit(moralisPayload([eth], { chainId: "0x1" })));
		expect(onEth.sent[0]).toMatchObject({ chain: "erc20", amount: "2.5", confirmations: 12 });
	});

	it("ignores and counts other tokens, outgoing transfers and zero transfers, and says which", async () => {
		const watched = randomAddress();
		const transfers = [
			moralisTransfer({ to: watched, value: usdt(5).toString(), contract: randomAddress() }),
			moralisTransfer({
				to: randomAddress(),
				from: watched,
				value: usdt(5).toString(),
				triggered_by: [watched],
			}),
			moralisTransfer({ to: watched, value: "0" }),
			moralisTransfer({ to: watched, value: usdt(1).toString() }),
		];
		const { res, body, sent, points } = await deliver(MORALIS_URL, moralisInit(moralisPayload(transfers)));
		expect(res.status).toBe(202);
		expect(sent).toHaveLength(1);
		expect(body.ignored.map((i) => [i.field, i.reason])).toEqual([
			["erc20Transfers.0", "foreign_token"],
			["erc20Transfers.1", "outgoing"],
			["erc20Transfers.2", "zero_amount"],
		]);
		const ignoredPoints = points.filter((p) => p.blobs[0] === "ignored");
		const reasonAt = Number(IGNORED.reason.slice(4)) - 1;
		expect(ignoredPoints.map((p) => [p.blobs[reasonAt], p.doubles[0]]).sort()).toEqual([
			["foreign_token", 1],
			["outgoing", 1],
			["zero_amount", 1],
		]);
	});

	it("answers 200 with nothing enqueued when a block holds no USDT deposit", async () => {
		const { res, sent, body } = await deliver(
			MORALIS_URL,
			moralisInit(
				moralisPayload([moralisTransfer({ to: randomAddress(), value: "5", contract: randomAddress() })]),
			),
		);
		expect(res.status).toBe(200);
		expect(sent).toEqual([]);
		expect(body.ignored).toHaveLength(1);
	});

	it("accepts the rotated secret; refuses a tampered body and another secret", async () => {
		const payload = moralisPayload([moralisTransfer({ to: randomAddress(), value: usdt(2).toString() })]);
		expect((await deliver(MORALIS_URL, moralisInit(payload, TEST_MORALIS_SECRET_ROTATED))).res.status).toBe(
			202,
		);
		const init = moralisInit(payload);
		const tampered = await deliver(MORALIS_URL, { ...init, body: init.body.replace('"2000000', '"9000000') });
		expect(tampered.res.status).toBe(401);
		expect(tampered.sent).toEqual([]);
		expect((await deliver(MORALIS_URL, moralisInit(payload, "not-our-secret"))).res.status).toBe(401);
	});

	it("answers a replay, and Moralis' own retry of an accepted delivery (retries: 1), 200 duplicate: nothing enqueued twice", async () => {
		const payload = moralisPayload([moralisTransfer({ to: randomAddress(), value: usdt(4).toString() })]);
		const first = await deliver(MORALIS_URL, moralisInit(payload));
		const replay = await deliver(MORALIS_URL, moralisInit(payload));
		expect(first.res.status).toBe(202);
		expect(replay.res.status).toBe(200);
		expect(replay.body.duplicate).toBe(true);
		expect(replay.body.deposits.map((d) => d.tx_id)).toEqual(first.body.deposits.map((d) => d.tx_id));
		expect(replay.sent).toEqual([]);
		const retry = await deliver(MORALIS_URL, moralisInit({ ...payload, retries: 1 }));
		expect(retry.res.status).toBe(200);
		expect(retry.body.duplicate).toBe(true);
		expect(retry.sent).toEqual([]);
	});

	it("takes the same transfer reported again in another block (a re-inclusion) as new, never as a replay", async () => {
		const transfer = moralisTransfer({ to: randomAddress(), value: usdt(4).toString() });
		const payload = moralisPayload([transfer], { confirmed: false });
		expect((await deliver(MORALIS_URL, moralisInit(payload))).sent).toHaveLength(1);
		const reincluded = {
			...payload,
			block: { ...payload.block, number: "45120340", hash: `0x${"c".repeat(64)}` },
		};
		const again = await deliver(MORALIS_URL, moralisInit(reincluded));
		expect(again.res.status).toBe(202);
		expect(again.sent).toEqual([expect.objectContaining({ block_number: "45120340", status: "pending" })]);
	});

	it("503 and nothing sent when the queue refuses; the redelivery then enqueues each deposit once", async () => {
		const payload = moralisPayload([
			moralisTransfer({ to: randomAddress(), value: usdt(1).toString() }),
			moralisTransfer({ to: randomAddress(), value: usdt(2).toString(), logIndex: "61" }),
		]);
		const failing = recordingQueue({ fail: true });
		const refused = await deliver(MORALIS_URL, moralisInit(payload), { DEPOSITS: failing.queue });
		expect(refused.res.status).toBe(503);
		expect(refused.res.headers.get("retry-after")).toBe("5");
		expect(failing.sent).toEqual([]);
		const redelivered = await deliver(MORALIS_URL, moralisInit(payload));
		expect(redelivered.res.status).toBe(202);
		expect(redelivered.sent).toHaveLength(2);
		const again = await deliver(MORALIS_URL, moralisInit(payload));
		expect(again.sent).toEqual([]);
	});

	it("refuses a chain the source is not enabled for, and one it does not know, naming chainId (422)", async () => {
		const transfer = moralisTransfer({ to: randomAddress(), value: "1" });
		const unknown = await deliver(MORALIS_URL, moralisInit(moralisPayload([transfer], { chainId: "0x89" })));
		expect(unknown.res.status).toBe(422);
		expect(unknown.body.error.fields).toEqual([
			{ path: "chainId", message: expect.stringMatching(/0x38, 0x1/) },
		]);
		const disabled = await deliver(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer], { chainId: "0x1" })),
			withSources((s) => {
				s.moralis!.chains = ["bep20"];
			}),
		);
		expect(disabled.res.status).toBe(422);
		expect(disabled.body.error.message).toMatch(/erc20, which source moralis is not enabled for/);
	});

	it("refuses what the ledger cannot store and malformed transfers, naming the field (422)", async () => {
		const transfer = moralisTransfer({ to: randomAddress(), value: "1" });
		const nul = await deliver(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer], { tag: "deposits\u0000" })),
		);
		expect(nul.res.status).toBe(422);
		expect(nul.body.error.fields).toEqual([{ path: "tag", message: expect.stringMatching(/U\+0000/) }]);
		const surrogate = await deliver(MORALIS_URL, moralisInit(moralisPayload([transfer], { tag: "\ud800" })));
		expect(surrogate.body.error.fields).toEqual([
			{ path: "tag", message: expect.stringMatching(/lone surrogate/) },
		]);
		const bad = await deliver(MORALIS_URL, moralisInit(moralisPayload([{ ...transfer, value: "-1" }])));
		expect(bad.body.error.fields).toEqual([{ path: "erc20Transfers.0.value", message: expect.any(String) }]);
		for (const r of [nul, surrogate, bad]) expect(r.sent).toEqual([]);
	});

	it("refuses a key given twice, and a transfer listed twice with another value (422)", async () => {
		const transfer = moralisTransfer({ to: randomAddress(), value: usdt(1).toString() });
		const text = JSON.stringify(moralisPayload([transfer])).replace(
			'"confirmed":true',
			'"confirmed":false,"confirmed":true',
		);
		const twice = await deliver(MORALIS_URL, moralisInit(text));
		expect(twice.res.status).toBe(422);
		expect(twice.body.error.fields).toEqual([
			{ path: "confirmed", message: expect.stringMatching(/more than once/) },
		]);
		const repeated = await deliver(
			MORALIS_URL,
			moralisInit(moralisPayload([transfer, { ...transfer, value: usdt(1000).toString() }])),
		);
		expect(repeated.res.status).toBe(422);
		expect((repeated.body.error.fields as { path: string }[])[0]).toMatchObject({
			path: "erc20Transfers.1",
		});
		expect(repeated.sent).toEqual([]);
		// The same transfer listed twice, unchanged, is one deposit.
		const same = await deliver(MORALIS_URL, moralisInit(moralisPayload([transfer, transfer])));
		expect(same.sent).toHaveLength(1);
	});

	it("holds a transfer whose stated decimals disagree with the configured token's", async () => {
		const { res, held, sent } = await deliver(
			MORALIS_URL,
			moralisInit(
				moralisPayload([moralisTransfer({ to: randomAddress(), value: "5000000", tokenDecimals: "6" })]),
			),
		);
		expect(res.status).toBe(202);
		expect(sent).toEqual([]);
		expect(held).toEqual([
			expect.objectContaining({ hold_reason: "decimals_mismatch", amount: "0.000000000005" }),
		]);
	});

	it(`takes a block's worth of transfers, up to ${MAX_PROVIDER_BODY_BYTES / 1024} KiB, in batches of 100`, async () => {
		const transfers = Array.from({ length: 150 }, (_, i) =>
			moralisTransfer({ to: randomAddress(), value: usdt(i + 1).toString(), logIndex: String(i) }),
		);
		const init = moralisInit(moralisPayload(transfers));
		expect(init.body.length).toBeGreaterThan(64 * 1024);
		const { res, sent } = await deliver(MORALIS_URL, init);
		expect(res.status).toBe(202);
		expect(new Set(sent.map((m) => m.tx_id)).size).toBe(150);
	});
});

describe("Alchemy Notify (Address Activity)", () => {
	it("maps the documented example's shape: each token transfer a message, mined is pending with 1 confirmation", async () => {
		const [alice, bob] = [randomAddress(), randomAddress()];
		const payload = alchemyPayload([
			alchemyActivity({ to: alice, raw: 293_092_129n }),
			{
				...alchemyActivity({ to: bob, raw: 2_400_000_000n }),
				log: { ...alchemyActivity({ to: bob, raw: 1n }).log, logIndex: "0x74" },
			},
		]);
		const { res, sent, body } = await deliver(ALCHEMY_URL, await alchemyInit(payload));
		expect(res.status).toBe(202);
		expect(sent.map((m) => [m.to_address, m.amount, m.log_index, m.status, m.confirmations])).toEqual([
			[alice, "293.092129", 110, "pending", 1],
			[bob, "2400", 116, "pending", 1],
		]);
		expect(sent[0]).toMatchObject({
			chain: "erc20",
			block_number: String(0xdf34a3),
			source: "alchemy",
			webhook_id: `alchemy:${payload.id}`,
			metadata: {
				provider: "alchemy",
				event_id: payload.id,
				webhook: "wh_k63lg72rxda78gce",
				token: USDT_ETH,
			},
		});
		expect(body.deposits.map((d) => d.tx_id)).toEqual(sent.map((m) => m.tx_id));
	});

	it("maps log.removed: true (a reorg) to removed", async () => {
		const activity = alchemyActivity({ to: randomAddress(), raw: 1_000_000n });
		const removed = { ...activity, log: { ...activity.log, removed: true } };
		const { sent } = await deliver(ALCHEMY_URL, await alchemyInit(alchemyPayload([removed])));
		expect(sent[0]).toMatchObject({ status: "removed", confirmations: null });
	});

	it("maps event.network to our chains, and refuses a network it does not know (422)", async () => {
		const onBsc = alchemyActivity({ to: randomAddress(), raw: usdt(7), token: USDT_BSC, decimals: 18 });
		const bsc = await deliver(ALCHEMY_URL, await alchemyInit(alchemyPayload([onBsc], "BNB_MAINNET")));
		expect(bsc.sent[0]).toMatchObject({ chain: "bep20", amount: "7" });
		const polygon = await deliver(ALCHEMY_URL, await alchemyInit(alchemyPayload([onBsc], "MATIC_MAINNET")));
		expect(polygon.res.status).toBe(422);
		expect(polygon.body.error.fields).toEqual([
			{ path: "event.network", message: expect.stringMatching(/ETH_MAINNET/) },
		]);
	});

	it("ignores native coin, NFTs, other tokens and transfers to the platform's own wallets", async () => {
		const sweeper = randomAddress();
		const deposit = alchemyActivity({ to: randomAddress(), raw: 5_000_000n });
		const payload = alchemyPayload([
			{
				blockNum: "0xdf34a3",
				hash: `0x${"1".repeat(64)}`,
				fromAddress: randomAddress(),
				toAddress: randomAddress(),
				value: 1.5,
				asset: "ETH",
				category: "external",
				rawContract: { rawValue: "0x14d1120d7b160000", address: null, decimals: 18 },
			},
			alchemyActivity({ to: randomAddress(), raw: 5_000_000n, token: USDC_ETH }),
			{ ...alchemyActivity({ to: randomAddress(), raw: 1n }), category: "erc721", erc721TokenId: "0x1" },
			alchemyActivity({ to: sweeper, raw: 9_000_000n }),
			deposit,
		]);
		const { res, sent, body } = await deliver(
			ALCHEMY_URL,
			await alchemyInit(payload),
			withSources((s) => {
				s.alchemy!.own_addresses = [sweeper];
			}),
		);
		expect(res.status).toBe(202);
		expect(sent.map((m) => m.tx_hash)).toEqual([deposit.hash]);
		expect(body.ignored.map((i) => i.reason)).toEqual([
			"foreign_token",
			"foreign_token",
			"foreign_token",
			"outgoing",
		]);
	});

	it("accepts the rotated signing key; refuses a tampered body, another key and no signature (401)", async () => {
		const payload = alchemyPayload([alchemyActivity({ to: randomAddress(), raw: 1_000_000n })]);
		expect(
			(await deliver(ALCHEMY_URL, await alchemyInit(payload, TEST_ALCHEMY_SIGNING_KEY_ROTATED))).res.status,
		).toBe(202);
		const init = await alchemyInit(payload);
		const tampered = await deliver(ALCHEMY_URL, {
			...init,
			body: init.body.replace("ETH_MAINNET", "BNB_MAINNET"),
		});
		expect(tampered.res.status).toBe(401);
		expect((await deliver(ALCHEMY_URL, await alchemyInit(payload, "whsec_other"))).res.status).toBe(401);
		const unsigned = await deliver(ALCHEMY_URL, { ...init, headers: { "content-type": "application/json" } });
		expect(unsigned.res.status).toBe(401);
		expect(unsigned.body.error.message).toMatch(/X-Alchemy-Signature/);
	});

	it("answers a replay as a duplicate and enqueues nothing new", async () => {
		const init = await alchemyInit(
			alchemyPayload([alchemyActivity({ to: randomAddress(), raw: 1_000_000n })]),
		);
		expect((await deliver(ALCHEMY_URL, init)).res.status).toBe(202);
		const replay = await deliver(ALCHEMY_URL, init);
		expect(replay.res.status).toBe(200);
		expect(replay.body.duplicate).toBe(true);
		expect(replay.sent).toEqual([]);
	});

	it("refuses another webhook type, naming the field (422)", async () => {
		const init = await alchemyInit({ ...alchemyPayload([]), type: "NFT_ACTIVITY" });
		const { res, body } = await deliver(ALCHEMY_URL, init);
		expect(res.status).toBe(422);
		expect(body.error.fields).toEqual([{ path: "type", message: expect.stringMatching(/ADDRESS_ACTIVITY/) }]);
	});
});

describe("a provider source's configuration", () => {
	it("a source switched off is not served (404), and an unknown one neither", async () => {
		const init = moralisInit(MORALIS_TEST_WEBHOOK);
		const off = await deliver(
			MORALIS_URL,
			init,
			withSources((s) => {
				s.moralis!.enabled = false;
			}),
		);
		expect(off.res.status).toBe(404);
		expect(off.body.error.known_sources).toEqual(["alchemy"]);
	});

	it("503 when its secret is not set: nothing is accepted, and the sender retries", async () => {
		const { res, body } = await deliver(MORALIS_URL, moralisInit(MORALIS_TEST_WEBHOOK), {
			MORALIS_STREAM_SECRETS: "",
		});
		expect(res.status).toBe(503);
		expect(body.error.message).toMatch(/no signing secret is configured/);
	});

	it("its own signature only: a Standard Webhooks request to the Moralis route is refused", async () => {
		const { res, body } = await deliver(MORALIS_URL, {
			method: "POST",
			headers: {
				"content-type": "application/json",
				"webhook-id": "msg_1",
				"webhook-timestamp": "1",
				"webhook-signature": "v1,AAAA",
			},
			body: "{}",
		});
		expect(res.status).toBe(401);
		expect(body.error.message).toMatch(/does not accept standard-webhooks/);
	});
});
