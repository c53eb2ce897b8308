/**
 * The TRC20 verifier against recorded answers of TRON's HTTP API (fixtures/tron-http-api.json,
 * written from TRON's API documentation) served over HTTP by a stand-in (test/tron-stand-in.ts):
 * no TRON node runs on these machines, so this is the only TRON test; the EVM verifier's tests
 * run against a real chain.
 */
import { describe, expect, it } from "vitest";
import { parseChainConfig } from "../src/chain/chain-config";
import type { TransferClaim } from "../src/chain/verdict";
import { verifyTransfers } from "../src/chain/verify-transfers";
import recording from "./fixtures/tron-http-api.json";
import { local } from "./support/chain";

const { addresses } = recording;
const tx = (c: string) => c.repeat(64 / c.length);

function config(scenarios: string[], decimals = 6) {
	return parseChainConfig({
		CHAIN_VERIFICATION: { bep20: "sender", erc20: "sender", trc20: "chain" },
		CHAIN_RPC_URLS: { trc20: scenarios.map((s) => `${local.tronOrigin}/${s}`) },
		CHAIN_TOKENS: { trc20: { address: addresses.usdt, decimals } },
		REORG_WINDOW: { trc20: 27 },
		CHAIN_RPC_TIMEOUT_MS: 2_000,
	});
}

function claim(over: Partial<TransferClaim>): TransferClaim {
	return {
		chain: "trc20",
		txHash: tx("a1"),
		logIndex: 0,
		recipients: [addresses.to],
		amount: "25.5",
		...over,
	};
}

async function requests(scenario: string): Promise<string[]> {
	return (await (await fetch(`${local.tronOrigin}/__requests/${scenario}`)).json()) as string[];
}

describe("TRC20 verifier (recorded TRON HTTP API answers)", () => {
	it("matches a recorded USDT transfer, with the block's blockID as its hash", async () => {
		const [check] = await verifyTransfers(config(["recorded"]), [claim({ txHash: `0x${tx("A1")}` })]);
		const block = recording.blocks["77848000"];
		expect(check).toEqual({
			status: "verified",
			verdict: {
				found: true,
				success: true,
				blockNumber: "77848000",
				blockHash: block.blockID,
				confirmations: 26,
				head: "77848025",
				transfer: {
					token: addresses.usdt,
					from: addresses.from,
					to: addresses.to,
					value: "25500000",
					amount: "25.5",
				},
				recipientMatches: true,
				amountMatches: true,
				mismatch: null,
				detail: expect.stringContaining(`25.5 to ${addresses.to}`),
			},
		});
	});

	it("gives each mismatch from the fixed list", async () => {
		const cases: [TransferClaim, string][] = [
			[claim({ txHash: tx("f0") }), "not_found"],
			[claim({ txHash: tx("b2") }), "failed"],
			[claim({ txHash: tx("c3") }), "not_a_transfer"], // a TRX transfer: no log
			[claim({ txHash: tx("e5"), logIndex: 0, amount: "0.065535" }), "not_a_transfer"], // an Approval log
			[claim({ txHash: tx("d4") }), "other_token"], // USDC
			[claim({ recipients: [addresses.other] }), "other_recipient"],
			[claim({ amount: "25.500001" }), "other_amount"],
			[claim({ amount: "25.5000001" }), "other_amount"], // more decimals than the token has
			[claim({ txHash: tx("e5"), logIndex: 2, amount: "7.25" }), "null"],
			[claim({ txHash: tx("e5"), logIndex: 1, amount: "1" }), "other_recipient"],
		];
		const checks = await verifyTransfers(
			config(["recorded"]),
			cases.map(([c]) => c),
		);
		expect(checks.map((c) => (c.status === "verified" ? String(c.verdict.mismatch) : c.status))).toEqual(
			cases.map(([, m]) => m),
		);
		expect(checks[8]).toMatchObject({ verdict: { blockNumber: "77848003", confirmations: 23 } });
		expect(checks[4]).toMatchObject({ verdict: { transfer: { token: addresses.usdc } } });
	});

	it("reads each transaction and block once per batch", async () => {
		await verifyTransfers(config(["counted"]), [
			claim({}),
			claim({ amount: "1" }),
			claim({ txHash: tx("e5"), logIndex: 2 }),
		]);
		// "counted" is not a recorded scenario name the stand-in treats specially: it answers from the recording.
		expect((await requests("counted")).sort()).toEqual(
			[
				"/wallet/getblock",
				"/wallet/triggerconstantcontract",
				"/wallet/gettransactioninfobyid",
				"/wallet/gettransactioninfobyid",
				"/wallet/getblock",
				"/wallet/getblock",
			].sort(),
		);
	});

	it("treats an outage, java-tron's {Error} answers and a node behind its own transactions as retryable", async () => {
		for (const [scenario, kind, text] of [
			["down", "unavailable", "HTTP 503"],
			["error", "unavailable", "request rate exceeded"],
			["behind", "inconsistent", "above the head"],
		] as const) {
			const [check] = await verifyTransfers(config([scenario]), [claim({})]);
			expect(check, scenario).toMatchObject({
				status: "unavailable",
				error: { kind, retryable: true, message: expect.stringContaining(text) },
			});
		}
	});

	it("falls back to the next endpoint", async () => {
		const [check] = await verifyTransfers(config(["down", "recorded"]), [claim({})]);
		expect(check).toMatchObject({ status: "verified", verdict: { mismatch: null } });
	});

	it("stops when the token's decimals differ from the configuration", async () => {
		const [check] = await verifyTransfers(config(["recorded"], 18), [claim({})]);
		expect(check).toMatchObject({
			status: "unavailable",
			error: { kind: "misconfigured", message: expect.stringContaining("has 6 decimals on chain") },
		});
	});
});
