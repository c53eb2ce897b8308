/**
 * What the chain setup (test/chain-global-setup.ts) provides to the consumer's tests.
 *
 * @module
 */
type Address = `0x${string}`;

export interface ProvidedChain {
	/** anvil itself. */
	rpcUrl: string;
	/** The RPC proxy: `${proxyOrigin}/<tag>` reaches anvil, `${proxyOrigin}/__control/<tag>` controls it. */
	proxyOrigin: string;
	/** An endpoint where nothing listens. */
	deadRpcUrl: string;
	/** The local USDT-like tokens (lower-case addresses). */
	tokens: Record<"bep20" | "erc20", { address: Address; decimals: number }>;
	/** Another token with 18 decimals, held by the sender too. */
	otherToken: Address;
	/** Anvil's account 1, funded with both tokens (unlocked in anvil: tests send from it without a key). */
	sender: Address;
	/** The TRON stand-in: `${tronOrigin}/<scenario>` is a TRON HTTP API base URL. */
	tronOrigin: string;
}

declare module "vitest" {
	export interface ProvidedContext {
		chain: ProvidedChain;
	}
}
