/**
 * The local chain from inside the consumer's tests: viem clients on the anvil the chain setup
 * started (test/chain-global-setup.ts), transfers from its funded sender, the RPC proxy's
 * per-test paths and faults, and verification settings built through the real parser.
 *
 * @module
 */
import {
	type Address,
	createPublicClient,
	createTestClient,
	createWalletClient,
	defineChain,
	encodeFunctionData,
	erc20Abi,
	type Hex,
	http,
	parseUnits,
	toHex,
} from "viem";
import { inject } from "vitest";
import "../../../test/support/chain-context";
import type { RpcFault } from "../../../test/support/rpc-faults";
import { type ChainVerificationConfig, parseChainConfig } from "../../src/chain/chain-config";

export const local = inject("chain");
export const anvil = defineChain({
	id: 31337,
	name: "anvil",
	nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
	rpcUrls: { default: { http: [local.rpcUrl] } },
});
export const reader = createPublicClient({ chain: anvil, transport: http() });
export const miner = createTestClient({ chain: anvil, mode: "anvil", transport: http() });
/** The sender is unlocked in anvil: it signs what it is asked to send. */
export const sender = createWalletClient({ chain: anvil, account: local.sender, transport: http() });

export function randomAddress(): Address {
	return toHex(crypto.getRandomValues(new Uint8Array(20)));
}

export function randomTxHash(): Hex {
	return toHex(crypto.getRandomValues(new Uint8Array(32)));
}

export interface Sent {
	hash: Hex;
	blockNumber: bigint;
	blockHash: Hex;
	status: "success" | "reverted";
	/** Block-level index of each log of the transaction, in order. */
	logIndexes: number[];
}

/** Sends a transaction from the sender with fixed gas (no estimate, so a reverting one is mined too). */
export async function send(
	to: Address,
	data: Hex,
	extra: { nonce?: number; gasPrice?: bigint } = {},
): Promise<Sent> {
	const hash = await sender.sendTransaction({ account: local.sender, to, data, gas: 200_000n, ...extra });
	const receipt = await reader.waitForTransactionReceipt({ hash, pollingInterval: 50 });
	return {
		hash,
		blockNumber: receipt.blockNumber,
		blockHash: receipt.blockHash,
		status: receipt.status,
		logIndexes: receipt.logs.map((l) => l.logIndex),
	};
}

/** The calldata of `transfer(to, amount)` for a token of `decimals`. */
export function transferData(to: Address, amount: string, decimals: number): Hex {
	return encodeFunctionData({
		abi: erc20Abi,
		functionName: "transfer",
		args: [to, parseUnits(amount, decimals)],
	});
}

/** A USDT transfer on the local bep20 token (18 decimals). */
export function sendUsdt(to: Address, amount: string): Promise<Sent> {
	return send(local.tokens.bep20.address, transferData(to, amount, 18));
}

/** A path of the RPC proxy for one test, with its fault switch and request log. */
export function proxyPath(tag: string) {
	const control = `${local.proxyOrigin}/__control/${tag}`;
	return {
		url: `${local.proxyOrigin}/${tag}`,
		async fault(fault: RpcFault | null) {
			await fetch(control, { method: "POST", body: JSON.stringify({ fault }) });
		},
		async requests(): Promise<{ methods: string[] }[]> {
			return ((await (await fetch(control)).json()) as { requests: { methods: string[] }[] }).requests;
		},
	};
}

/** Settings as the consumer reads them, with bep20 verified on the given endpoints. */
export function bep20Config(
	endpoints: string[],
	options: { decimals?: number; timeoutMs?: number; token?: string } = {},
): ChainVerificationConfig {
	return parseChainConfig({
		CHAIN_VERIFICATION: { bep20: "chain", erc20: "sender", trc20: "sender" },
		CHAIN_RPC_URLS: { bep20: endpoints },
		CHAIN_TOKENS: {
			bep20: { address: options.token ?? local.tokens.bep20.address, decimals: options.decimals ?? 18 },
		},
		REORG_WINDOW: { bep20: 64 },
		CHAIN_RPC_TIMEOUT_MS: options.timeoutMs ?? 3_000,
	});
}

/**
 * The consumer's environment with bep20 verified on chain (the given endpoints, the local
 * token), as `[vars]` give it: for the real `queue` and `scheduled` handlers.
 */
export function chainModeEnv(base: Env, endpoints: string[] = [local.rpcUrl]): Env {
	return {
		...base,
		CHAIN_VERIFICATION: { bep20: "chain", erc20: "sender", trc20: "sender" },
		CHAIN_RPC_URLS: { bep20: endpoints },
		CHAIN_TOKENS: { bep20: { address: local.tokens.bep20.address, decimals: 18 } },
		REORG_WINDOW: { bep20: 64 },
		CHAIN_RPC_TIMEOUT_MS: 2_000,
	} as unknown as Env;
}
