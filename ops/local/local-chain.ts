/**
 * The local chain of `npm start` and the tests: anvil with a USDT-like token deployed for each
 * EVM chain the platform accepts (18 decimals as USDT on BSC for `bep20`, 6 as on Ethereum for
 * `erc20`) and a sender account holding 1,000,000 of each, as a player's wallet would.
 *
 * Anvil starts empty every time and the deployer is its first account, so the tokens always
 * land at the same addresses ({@link LOCAL_TOKENS}); the consumer's local `[vars]` name them.
 *
 * @module
 */
import {
	type Address,
	createPublicClient,
	createWalletClient,
	defineChain,
	getContractAddress,
	type Hex,
	http,
	parseUnits,
} from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { ANVIL_MNEMONIC, type AnvilOptions, startAnvil } from "./anvil";
import artifact from "./token/local-usdt.json" with { type: "json" };

/** Anvil's account 0 deploys; account 1 is the sender of test deposits. */
const DEPLOYER = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 });
export const SENDER = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 });

/** The tokens, in deployment order (the deployer's nonces 0 and 1). */
const TOKEN_PLAN = [
	{ chain: "bep20", name: "Tether USD (local BEP20)", decimals: 18 },
	{ chain: "erc20", name: "Tether USD (local ERC20)", decimals: 6 },
] as const;
export type LocalEvmChain = (typeof TOKEN_PLAN)[number]["chain"];

interface LocalToken {
	/** Lower-case, as the consumer's configuration holds it. */
	address: Address;
	decimals: number;
}

/** Where the tokens are on a fresh local chain. */
export const LOCAL_TOKENS = Object.fromEntries(
	TOKEN_PLAN.map((t, nonce) => [
		t.chain,
		{
			address: getContractAddress({ from: DEPLOYER.address, nonce: BigInt(nonce) }).toLowerCase() as Address,
			decimals: t.decimals,
		},
	]),
) as Record<LocalEvmChain, LocalToken>;

export const SENDER_BALANCE = "1000000";
const SUPPLY = "1000000000";

interface LocalChain {
	rpcUrl: string;
	tokens: Record<LocalEvmChain, LocalToken>;
	/** The funded sender: anvil's account 1 (a development key everyone knows). */
	sender: { address: Address; privateKey: Hex };
	stop(): Promise<void>;
	/** Resolves, with how it ended, when anvil exits by itself (not through `stop`). */
	readonly exited: Promise<string>;
}

/** A viem chain for anvil at `rpcUrl` (anvil's chain id unless told otherwise). */
export function anvilChain(rpcUrl: string, id = 31337) {
	return defineChain({
		id,
		name: "anvil",
		nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
		rpcUrls: { default: { http: [rpcUrl] } },
	});
}

/** Deploys the tokens and funds the sender on a fresh anvil; resolves once all is mined. */
async function deployLocalTokens(rpcUrl: string): Promise<Record<LocalEvmChain, LocalToken>> {
	const chain = anvilChain(rpcUrl);
	const wallet = createWalletClient({ account: DEPLOYER, chain, transport: http(rpcUrl) });
	const client = createPublicClient({ chain, transport: http(rpcUrl) });
	const firstNonce = await client.getTransactionCount({ address: DEPLOYER.address });
	if (firstNonce !== 0) {
		throw new Error(`the chain at ${rpcUrl} is not fresh (the deployer has sent ${firstNonce} transactions)`);
	}
	// Sent back to back with explicit nonces, so a chain that mines every second takes one block.
	const hashes: Hex[] = [];
	for (const [nonce, t] of TOKEN_PLAN.entries()) {
		hashes.push(
			await wallet.deployContract({
				abi: artifact.abi,
				bytecode: artifact.bytecode as Hex,
				args: [t.name, "USDT", t.decimals, parseUnits(SUPPLY, t.decimals)],
				nonce,
				gas: 2_000_000n,
			}),
		);
	}
	for (const [i, t] of TOKEN_PLAN.entries()) {
		hashes.push(
			await wallet.writeContract({
				address: LOCAL_TOKENS[t.chain].address,
				abi: artifact.abi,
				functionName: "transfer",
				args: [SENDER.address, parseUnits(SENDER_BALANCE, t.decimals)],
				nonce: TOKEN_PLAN.length + i,
				gas: 100_000n,
			}),
		);
	}
	for (const hash of hashes) {
		const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 100, timeout: 30_000 });
		if (receipt.status !== "success") throw new Error(`setting up the local tokens failed in ${hash}`);
	}
	return LOCAL_TOKENS;
}

/**
 * Deploys one more token (for tests: a transfer of another token than the configured one)
 * and gives `holder` 1,000,000 of it; resolves to its lower-case address once mined.
 */
export async function deployToken(
	rpcUrl: string,
	token: { name: string; decimals: number; holder: Address },
): Promise<Address> {
	const chain = anvilChain(rpcUrl);
	const wallet = createWalletClient({ account: DEPLOYER, chain, transport: http(rpcUrl) });
	const client = createPublicClient({ chain, transport: http(rpcUrl) });
	const deployed = await client.waitForTransactionReceipt({
		hash: await wallet.deployContract({
			abi: artifact.abi,
			bytecode: artifact.bytecode as Hex,
			args: [token.name, "OUSD", token.decimals, parseUnits(SUPPLY, token.decimals)],
			gas: 2_000_000n,
		}),
		pollingInterval: 100,
	});
	if (!deployed.contractAddress) throw new Error(`deploying ${token.name} failed`);
	const funded = await client.waitForTransactionReceipt({
		hash: await wallet.writeContract({
			address: deployed.contractAddress,
			abi: artifact.abi,
			functionName: "transfer",
			args: [token.holder, parseUnits(SENDER_BALANCE, token.decimals)],
			gas: 100_000n,
		}),
		pollingInterval: 100,
	});
	if (funded.status !== "success") throw new Error(`funding ${token.holder} with ${token.name} failed`);
	return deployed.contractAddress.toLowerCase() as Address;
}

/**
 * Starts anvil and deploys the tokens.
 *
 * @example
 * ```ts
 * const chain = await startLocalChain({ port: 8545, blockTime: 1 });
 * chain.tokens.bep20.address; // 0x5fbdb2315678afecb367f032d93f642f64180aa3
 * await chain.stop();
 * ```
 */
export async function startLocalChain(options: AnvilOptions = {}): Promise<LocalChain> {
	const anvil = await startAnvil(options);
	try {
		const tokens = await deployLocalTokens(anvil.rpcUrl);
		return {
			rpcUrl: anvil.rpcUrl,
			tokens,
			sender: { address: SENDER.address, privateKey: SENDER_PRIVATE_KEY },
			stop: anvil.stop,
			exited: anvil.exited,
		};
	} catch (error) {
		await anvil.stop();
		throw error;
	}
}

/** Anvil's account 1 key (from its public development mnemonic). */
export const SENDER_PRIVATE_KEY: Hex = `0x${Buffer.from(SENDER.getHdKey().privateKey!).toString("hex")}`;

/** anvil's port in the local stack (`ANVIL_PORT` overrides it). */
export const DEFAULT_ANVIL_PORT = 8545;
/** The local stack mines a block a second, so confirmations grow with no transaction. */
export const LOCAL_BLOCK_TIME_SECONDS = 1;

/** The local stack's chain endpoint, as `npm start` runs it. */
export function localRpcUrl(): string {
	return `http://127.0.0.1:${process.env.ANVIL_PORT || DEFAULT_ANVIL_PORT}`;
}

/** `CHAIN_VERIFICATION` as `npm start` reads it: "chain" (the default) or "sender". */
export function chainVerificationMode(value: string | undefined): "chain" | "sender" {
	if (value === undefined || value === "" || value === "chain") return "chain";
	if (value === "sender") return "sender";
	throw new Error(`CHAIN_VERIFICATION must be "chain" or "sender", not ${JSON.stringify(value)}`);
}

/**
 * The consumer's verification variables for this chain. `wrangler dev` takes a variable from
 * the environment over `[vars]`, so the consumer verifies on the chain actually started (its
 * port may not be the default); in "sender" mode every chain trusts signed webhooks.
 */
export function consumerChainVars(
	chain: Pick<LocalChain, "rpcUrl" | "tokens">,
	mode: "chain" | "sender",
): Record<string, string> {
	return {
		CHAIN_RPC_URLS: JSON.stringify({ bep20: [chain.rpcUrl], erc20: [chain.rpcUrl] }),
		CHAIN_TOKENS: JSON.stringify(chain.tokens),
		CHAIN_VERIFICATION:
			mode === "sender" ? "sender" : JSON.stringify({ bep20: "chain", erc20: "chain", trc20: "sender" }),
	};
}
