/**
 * The EVM verifier against a real chain: anvil with the local USDT-like token, real transfers
 * mined, forged claims, blocks mined, a reorg, endpoints down, slow, erroring or disagreeing,
 * and the number of HTTP requests counted at a proxy.
 */
import { encodeFunctionData, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import { TRANSFER_MANY_ABI } from "../../ops/local/token/local-usdt-abi";
import type { TransferClaim } from "../src/chain/verdict";
import { verifyTransfers } from "../src/chain/verify-transfers";
import {
	bep20Config,
	local,
	miner,
	proxyPath,
	randomAddress,
	randomTxHash,
	reader,
	send,
	sendUsdt,
	transferData,
} from "./support/chain";

function claim(over: Partial<TransferClaim> & Pick<TransferClaim, "txHash" | "logIndex">): TransferClaim {
	return { chain: "bep20", recipients: [], amount: "1", ...over };
}

async function verifyOne(endpoints: string[], c: TransferClaim) {
	const [check] = await verifyTransfers(bep20Config(endpoints), [c]);
	return check!;
}

describe("EVM verifier on the local chain", () => {
	it("finds real transfers in ONE batched request, with the chain's block, hash and confirmations", async () => {
		const [a, b] = [randomAddress(), randomAddress()];
		const first = await sendUsdt(a, "25.5");
		const second = await sendUsdt(b, "0.000000000000000001");
		const path = proxyPath("batch-of-four");
		const claims = [
			claim({
				txHash: first.hash,
				logIndex: first.logIndexes[0]!,
				recipients: [a],
				amount: "25.5",
				blockNumber: String(first.blockNumber),
			}),
			claim({
				txHash: second.hash,
				logIndex: second.logIndexes[0]!,
				recipients: [b],
				amount: "0.000000000000000001",
				blockNumber: String(second.blockNumber),
			}),
			// The same transaction asked twice (a redelivery in the same batch) and one that does not exist.
			claim({
				txHash: first.hash.toUpperCase().replace("0X", "0x"),
				logIndex: first.logIndexes[0]!,
				recipients: [a.toUpperCase().replace("0X", "0x")],
				amount: "25.50",
				blockNumber: String(first.blockNumber),
			}),
			claim({
				txHash: randomTxHash(),
				logIndex: 0,
				recipients: [a],
				amount: "25.5",
				blockNumber: String(first.blockNumber),
			}),
		];
		// Other files mine on the same chain: the verdict's head lies between the two reads (uncached:
		// viem caches the block number for a few seconds).
		const headBefore = await reader.getBlockNumber({ cacheTime: 0 });
		const checks = await verifyTransfers(bep20Config([path.url]), claims);
		const headAfter = await reader.getBlockNumber({ cacheTime: 0 });
		const head = BigInt((checks[0] as { verdict?: { head?: string } }).verdict?.head ?? -1);
		expect(head >= headBefore && head <= headAfter, `head ${head} outside ${headBefore}..${headAfter}`).toBe(
			true,
		);

		expect(checks[0]).toEqual({
			status: "verified",
			verdict: {
				found: true,
				success: true,
				blockNumber: String(first.blockNumber),
				blockHash: first.blockHash,
				confirmations: Number(head - first.blockNumber + 1n),
				head: String(head),
				transfer: {
					token: local.tokens.bep20.address,
					from: local.sender.toLowerCase(),
					to: a.toLowerCase(),
					value: "25500000000000000000",
					amount: "25.5",
				},
				recipientMatches: true,
				amountMatches: true,
				mismatch: null,
				detail: expect.stringContaining("25.5 to"),
			},
		});
		expect(checks[1]).toMatchObject({
			status: "verified",
			verdict: { mismatch: null, transfer: { value: "1" } },
		});
		expect(checks[2]).toMatchObject({
			status: "verified",
			verdict: { mismatch: null, blockHash: first.blockHash },
		});
		expect(checks[3]).toMatchObject({
			status: "verified",
			verdict: { found: false, mismatch: "not_found", confirmations: null, blockHash: null },
		});

		const requests = await path.requests();
		expect(requests).toHaveLength(1);
		expect(requests[0]!.methods.sort()).toEqual(
			[
				"eth_blockNumber",
				"eth_call",
				"eth_getTransactionReceipt",
				"eth_getTransactionReceipt",
				"eth_getTransactionReceipt",
				"eth_getBlockByNumber",
				"eth_getBlockByNumber",
			].sort(),
		);
	});

	it("without the block a transfer was seen in, proves the block hash with one more request", async () => {
		const to = randomAddress();
		const sent = await sendUsdt(to, "3");
		const path = proxyPath("no-hint");
		const check = await verifyOne(
			[path.url],
			claim({ txHash: sent.hash, logIndex: sent.logIndexes[0]!, recipients: [to], amount: "3" }),
		);
		expect(check).toMatchObject({
			status: "verified",
			verdict: { mismatch: null, blockHash: sent.blockHash },
		});
		const requests = await path.requests();
		expect(requests.map((r) => r.methods)).toEqual([
			["eth_blockNumber", "eth_call", "eth_getTransactionReceipt"],
			["eth_getBlockByNumber"],
		]);
	});

	it("never matches forged claims: each mismatch from the fixed list, with what the chain says", async () => {
		const to = randomAddress();
		const real = await sendUsdt(to, "10");
		const hint = String(real.blockNumber);
		const other = await send(local.otherToken, transferData(to, "10", 18));
		const failed = await send(local.tokens.bep20.address, transferData(to, "5000000", 18)); // beyond the sender's balance
		const approval = await send(
			local.tokens.bep20.address,
			encodeFunctionData({
				abi: [
					{
						type: "function",
						name: "approve",
						stateMutability: "nonpayable",
						inputs: [
							{ name: "s", type: "address" },
							{ name: "v", type: "uint256" },
						],
						outputs: [{ type: "bool" }],
					},
				],
				functionName: "approve",
				args: [to, 1n],
			}),
		);
		expect(failed.status).toBe("reverted");
		const at = (s: { hash: Hex; logIndexes: number[] }) => ({
			txHash: s.hash,
			logIndex: s.logIndexes[0] ?? 0,
		});
		const cases: [TransferClaim, string][] = [
			[
				claim({ txHash: randomTxHash(), logIndex: 0, recipients: [to], amount: "10", blockNumber: hint }),
				"not_found",
			],
			[claim({ ...at(real), recipients: [to], amount: "10.00000001" }), "other_amount"],
			[claim({ ...at(real), recipients: [to], amount: "1" }), "other_amount"],
			[claim({ ...at(real), recipients: [randomAddress()], amount: "10" }), "other_recipient"],
			[claim({ ...at(real), recipients: [], amount: "10" }), "other_recipient"],
			[claim({ ...at(other), recipients: [to], amount: "10" }), "other_token"],
			[claim({ ...at(failed), recipients: [to], amount: "5000000" }), "failed"],
			[claim({ ...at(approval), recipients: [to], amount: "1" }), "not_a_transfer"],
			[
				claim({ txHash: real.hash, logIndex: real.logIndexes[0]! + 1, recipients: [to], amount: "10" }),
				"not_a_transfer",
			],
			[claim({ txHash: "0xnot-a-hash", logIndex: 0, recipients: [to], amount: "10" }), "not_found"],
		];
		const checks = await verifyTransfers(
			bep20Config([local.rpcUrl]),
			cases.map(([c]) => c),
		);
		expect(checks.map((c) => (c.status === "verified" ? c.verdict.mismatch : c.status))).toEqual(
			cases.map(([, m]) => m),
		);
		const byToken = checks[5]!;
		expect(byToken).toMatchObject({
			verdict: {
				transfer: { token: local.otherToken, amount: "10" },
				recipientMatches: true,
				amountMatches: true,
			},
		});
		expect(checks[1]).toMatchObject({
			verdict: {
				transfer: { amount: "10" },
				amountMatches: false,
				detail: "the transfer is of 10, not 10.00000001",
			},
		});
		expect(checks[6]).toMatchObject({ verdict: { found: true, success: false, transfer: null } });
	});

	it("reads the log at the claimed index of a transaction with several transfers", async () => {
		const [a, b] = [randomAddress(), randomAddress()];
		const sent = await send(
			local.tokens.bep20.address,
			encodeFunctionData({
				abi: TRANSFER_MANY_ABI,
				functionName: "transferMany",
				args: [
					[a, b],
					[10n ** 18n, 2n * 10n ** 18n],
				],
			}),
		);
		expect(sent.logIndexes).toHaveLength(2);
		const [first, second] = await verifyTransfers(bep20Config([local.rpcUrl]), [
			claim({ txHash: sent.hash, logIndex: sent.logIndexes[1]!, recipients: [b], amount: "2" }),
			claim({ txHash: sent.hash, logIndex: sent.logIndexes[1]!, recipients: [a], amount: "1" }),
		]);
		expect(first).toMatchObject({
			verdict: { mismatch: null, transfer: { to: b.toLowerCase(), amount: "2" } },
		});
		expect(second).toMatchObject({ verdict: { mismatch: "other_recipient" } });
	});

	it("counts confirmations from the chain's head as blocks are mined, with no new claim data", async () => {
		const to = randomAddress();
		const sent = await sendUsdt(to, "7");
		const c = claim({
			txHash: sent.hash,
			logIndex: sent.logIndexes[0]!,
			recipients: [to],
			amount: "7",
			blockNumber: String(sent.blockNumber),
		});
		const before = await verifyOne([local.rpcUrl], c);
		await miner.mine({ blocks: 11 });
		const after = await verifyOne([local.rpcUrl], c);
		if (before.status !== "verified" || after.status !== "verified") throw new Error("not verified");
		// Counted from the head the verifier read; other files may mine on the same chain meanwhile.
		expect(after.verdict.confirmations).toBe(Number(BigInt(after.verdict.head!) - sent.blockNumber + 1n));
		expect(after.verdict.confirmations).toBeGreaterThanOrEqual(before.verdict.confirmations! + 11);
		expect(after.verdict.blockHash).toBe(before.verdict.blockHash);
	});

	it("sees a reorg: the transfer gone, then re-included in another block with another hash", async () => {
		const to = randomAddress();
		const snapshot = await miner.snapshot();
		const nonce = await reader.getTransactionCount({ address: local.sender });
		const tx = { nonce, gasPrice: 3_000_000_000n };
		const sent = await send(local.tokens.bep20.address, transferData(to, "12", 18), tx);
		const c = claim({
			txHash: sent.hash,
			logIndex: sent.logIndexes[0]!,
			recipients: [to],
			amount: "12",
			blockNumber: String(sent.blockNumber),
		});
		expect(await verifyOne([local.rpcUrl], c)).toMatchObject({
			verdict: { mismatch: null, blockHash: sent.blockHash },
		});

		await miner.revert({ id: snapshot });
		expect(await verifyOne([local.rpcUrl], c)).toMatchObject({
			verdict: { found: false, mismatch: "not_found" },
		});

		await miner.mine({ blocks: 1 });
		const again = await send(local.tokens.bep20.address, transferData(to, "12", 18), tx);
		expect(again.hash).toBe(sent.hash);
		const moved = await verifyOne([local.rpcUrl], c);
		expect(moved).toMatchObject({
			status: "verified",
			verdict: { mismatch: null, blockNumber: String(again.blockNumber), blockHash: again.blockHash },
		});
		expect(again.blockHash).not.toBe(sent.blockHash);
	});

	it("treats RPC trouble as retryable, never as a verdict, and recovers when the endpoint is back", async () => {
		const to = randomAddress();
		const sent = await sendUsdt(to, "4");
		const c = claim({
			txHash: sent.hash,
			logIndex: sent.logIndexes[0]!,
			recipients: [to],
			amount: "4",
			blockNumber: String(sent.blockNumber),
		});
		const path = proxyPath("down-then-back");
		for (const [fault, message] of [
			["refuse", ""],
			["http503", "HTTP 503"],
			["rpc_error", "rate limited"],
			["other_block_hash", "reorganising or the endpoint's nodes disagree"],
		] as const) {
			await path.fault(fault);
			const check = await verifyOne([path.url], c);
			expect(check.status, fault).toBe("unavailable");
			if (check.status !== "unavailable") continue;
			expect(check.error.retryable).toBe(true);
			expect(check.error.message).toContain(message);
			expect(check.error.kind).toBe(fault === "other_block_hash" ? "inconsistent" : "unavailable");
		}
		await path.fault(null);
		expect(await verifyOne([path.url], c)).toMatchObject({ status: "verified", verdict: { mismatch: null } });
	});

	it("gives up on a silent endpoint at the time limit", async () => {
		const path = proxyPath("hang");
		await path.fault("hang");
		const started = Date.now();
		const [check] = await verifyTransfers(bep20Config([path.url], { timeoutMs: 300 }), [
			claim({ txHash: randomTxHash(), logIndex: 0 }),
		]);
		expect(check).toMatchObject({
			status: "unavailable",
			error: { message: expect.stringContaining("no answer within 300 ms") },
		});
		expect(Date.now() - started).toBeLessThan(5_000);
	});

	it("falls back to the next endpoint, in order, and names every failed one when all fail", async () => {
		const to = randomAddress();
		const sent = await sendUsdt(to, "9");
		const c = claim({
			txHash: sent.hash,
			logIndex: sent.logIndexes[0]!,
			recipients: [to],
			amount: "9",
			blockNumber: String(sent.blockNumber),
		});
		const second = proxyPath("fallback-second");
		expect(await verifyOne([local.deadRpcUrl, second.url], c)).toMatchObject({
			status: "verified",
			verdict: { mismatch: null },
		});
		expect(await second.requests()).toHaveLength(1);

		const broken = proxyPath("fallback-broken");
		await broken.fault("http503");
		const check = await verifyOne([local.deadRpcUrl, broken.url], c);
		expect(check.status).toBe("unavailable");
		if (check.status !== "unavailable") return;
		expect(check.error.attempts.map((a) => a.endpoint)).toEqual([local.deadRpcUrl, `${local.proxyOrigin}/…`]);
		expect(check.error.message).toMatch(/^bep20: could not verify on chain, every endpoint failed/);
	});

	it("stops when the token's decimals on chain differ from the configuration, or no token is there", async () => {
		const c = claim({ txHash: randomTxHash(), logIndex: 0 });
		const [wrongDecimals] = await verifyTransfers(bep20Config([local.rpcUrl], { decimals: 6 }), [c]);
		expect(wrongDecimals).toMatchObject({
			status: "unavailable",
			error: {
				kind: "misconfigured",
				message: expect.stringContaining("has 18 decimals on chain, CHAIN_TOKENS.bep20.decimals says 6"),
			},
		});
		const [noToken] = await verifyTransfers(bep20Config([local.rpcUrl], { token: randomAddress() }), [c]);
		expect(noToken).toMatchObject({ status: "unavailable", error: { kind: "misconfigured" } });
	});

	it("asks nothing of a chain in sender mode", async () => {
		const path = proxyPath("sender-mode");
		const config = bep20Config([path.url]);
		const [check] = await verifyTransfers(config, [
			{ chain: "erc20", txHash: randomTxHash(), logIndex: 0, recipients: [], amount: "1" },
		]);
		expect(check).toEqual({ status: "trusted" });
		expect(await path.requests()).toHaveLength(0);
	});
});
