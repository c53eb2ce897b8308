/** The verification settings: parsing, defaults, and refusals (the committed wrangler.toml is checked in ops/test/local-chain.test.ts). */

import { describe, expect, it } from "vitest";
import { parseChainConfig } from "../src/chain/chain-config";
import { ConfigError } from "../src/config";

const BASE = {
	CHAIN_VERIFICATION: "chain",
	CHAIN_RPC_URLS: {
		bep20: ["https://bsc.example/rpc"],
		erc20: [{ url: "https://eth.example/v2/key", headers: { authorization: "Bearer x" } }],
		trc20: ["https://tron.example"],
	},
	CHAIN_TOKENS: {
		bep20: { address: "0x55d398326f99059fF775485246999027B3197955", decimals: 18 },
		erc20: { address: "0xdAC17F958D2ee523a2206206994597C13D831ec7", decimals: 6 },
		trc20: { address: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals: 6 },
	},
	REORG_WINDOW: { bep20: 64, erc20: 96, trc20: 27 },
	CONFIRMATIONS: { bep20: 12, erc20: 12, trc20: 19 },
};

function failure(env: Record<string, unknown>): string {
	try {
		parseChainConfig(env);
	} catch (error) {
		expect(error).toBeInstanceOf(ConfigError);
		return (error as Error).message;
	}
	throw new Error("accepted");
}

describe("parseChainConfig", () => {
	it("reads every chain: endpoints in order, addresses in stored form, the default time limit", () => {
		const config = parseChainConfig(BASE);
		expect(config.rpcTimeoutMs).toBe(5_000);
		expect(config.chains.bep20).toEqual({
			chain: "bep20",
			mode: "chain",
			family: "evm",
			endpoints: [{ url: "https://bsc.example/rpc", headers: {} }],
			token: { address: "0x55d398326f99059ff775485246999027b3197955", decimals: 18 },
			reorgWindow: 64,
		});
		expect(config.chains.erc20).toMatchObject({
			endpoints: [{ headers: { authorization: "Bearer x" } }],
			token: { decimals: 6 },
		});
		expect(config.chains.trc20).toMatchObject({
			family: "tron",
			token: { address: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals: 6 },
		});
	});

	it("defaults to chain mode, accepts JSON text (a secret, wrangler dev's environment) and sender mode for all", () => {
		const { CHAIN_VERIFICATION: _, ...rest } = BASE;
		expect(parseChainConfig(rest).chains.bep20.mode).toBe("chain");
		const asText = Object.fromEntries(
			Object.entries(BASE).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
		);
		expect(parseChainConfig(asText).chains.erc20.mode).toBe("chain");
		const sender = parseChainConfig({ CHAIN_VERIFICATION: "sender" });
		expect(Object.values(sender.chains).map((c) => c.mode)).toEqual(["sender", "sender", "sender"]);
		// A variable set from the environment may arrive as JSON text, a quoted string included.
		const quoted = parseChainConfig({ CHAIN_VERIFICATION: '"sender"' });
		expect(Object.values(quoted.chains).map((c) => c.mode)).toEqual(["sender", "sender", "sender"]);
	});

	it.each([
		[
			"an empty endpoint list",
			{ ...BASE, CHAIN_RPC_URLS: { ...BASE.CHAIN_RPC_URLS, bep20: [] } },
			["CHAIN_RPC_URLS.bep20", "has no endpoint", 'CHAIN_VERIFICATION.bep20 = "sender"'],
		],
		[
			"an ftp endpoint",
			{ ...BASE, CHAIN_RPC_URLS: { ...BASE.CHAIN_RPC_URLS, bep20: ["ftp://x"] } },
			["must be an http(s) URL", "CHAIN_RPC_URLS.bep20[0].url"],
		],
		[
			"a bad EVM checksum",
			{
				...BASE,
				CHAIN_TOKENS: {
					...BASE.CHAIN_TOKENS,
					bep20: { address: "0x55D398326f99059fF775485246999027B3197955", decimals: 18 },
				},
			},
			["CHAIN_TOKENS.bep20.address", "checksum"],
		],
		[
			"a bad TRON checksum",
			{
				...BASE,
				CHAIN_TOKENS: {
					...BASE.CHAIN_TOKENS,
					trc20: { address: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u", decimals: 6 },
				},
			},
			["CHAIN_TOKENS.trc20.address", "valid checksum"],
		],
		[
			"fractional decimals",
			{
				...BASE,
				CHAIN_TOKENS: {
					...BASE.CHAIN_TOKENS,
					erc20: { address: BASE.CHAIN_TOKENS.erc20.address, decimals: 6.5 },
				},
			},
			["CHAIN_TOKENS.erc20.decimals"],
		],
		[
			"a missing token",
			{ ...BASE, CHAIN_TOKENS: { bep20: BASE.CHAIN_TOKENS.bep20, erc20: BASE.CHAIN_TOKENS.erc20 } },
			["CHAIN_TOKENS.trc20", "has no token contract"],
		],
		[
			"a window shorter than the threshold",
			{ ...BASE, REORG_WINDOW: { ...BASE.REORG_WINDOW, trc20: 10 } },
			["REORG_WINDOW.trc20", "shorter than CONFIRMATIONS.trc20 (19)"],
		],
		[
			"an unknown mode",
			{ ...BASE, CHAIN_VERIFICATION: "trust" },
			["CHAIN_VERIFICATION", '"chain", "sender"'],
		],
		[
			"an unknown mode of one chain",
			{ ...BASE, CHAIN_VERIFICATION: { bep20: "maybe" } },
			["CHAIN_VERIFICATION"],
		],
		["unparsable JSON", { ...BASE, CHAIN_TOKENS: "{oops" }, ["CHAIN_TOKENS", "table per chain"]],
		["a time limit too short", { ...BASE, CHAIN_RPC_TIMEOUT_MS: 50 }, ["CHAIN_RPC_TIMEOUT_MS"]],
	])("refuses %s, naming the variable and the fix", (_label, env, parts) => {
		const message = failure(env);
		expect(message).toMatch(/^invalid chain verification configuration/);
		for (const part of parts) expect(message).toContain(part);
	});
});
