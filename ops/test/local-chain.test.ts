/**
 * The local chain: the committed token artifact is what its source compiles to, anvil starts on
 * a free or a given port and stops, a taken port is reported, the tokens land where the
 * consumer's local configuration expects them, and every committed environment's verification
 * settings parse.
 */
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { createPublicClient, erc20Abi, formatUnits, http } from "viem";
import { describe, expect, it } from "vitest";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { parseChainConfig } from "../../queue-consumer/engine";
import { startAnvil } from "../local/anvil";
import { LOCAL_TOKENS, SENDER, SENDER_BALANCE, startLocalChain } from "../local/local-chain";
import { artifactText, compileLocalUsdt, TOKEN_ARTIFACT_PATH } from "../local/token/compile-token";

function consumerVars(env?: string): Record<string, unknown> {
	return unstable_getMiniflareWorkerOptions("queue-consumer/wrangler.toml", env).workerOptions
		.bindings as Record<string, unknown>;
}

describe("local chain", () => {
	it("commits the token artifact its Solidity source compiles to (npm run token:build rewrites it)", () => {
		expect(readFileSync(TOKEN_ARTIFACT_PATH, "utf8")).toBe(artifactText(compileLocalUsdt()));
	});

	it("deploys the tokens where the consumer's local configuration expects them, and funds the sender", async () => {
		const chain = await startLocalChain();
		try {
			expect(chain.tokens).toEqual(LOCAL_TOKENS);
			const local = parseChainConfig(consumerVars());
			for (const name of ["bep20", "erc20"] as const) {
				const settings = local.chains[name];
				expect(settings).toMatchObject({ mode: "chain", token: LOCAL_TOKENS[name] });
				const client = createPublicClient({ transport: http(chain.rpcUrl) });
				const [decimals, balance] = await Promise.all([
					client.readContract({
						address: LOCAL_TOKENS[name].address,
						abi: erc20Abi,
						functionName: "decimals",
					}),
					client.readContract({
						address: LOCAL_TOKENS[name].address,
						abi: erc20Abi,
						functionName: "balanceOf",
						args: [SENDER.address],
					}),
				]);
				expect(decimals).toBe(name === "bep20" ? 18 : 6);
				expect(formatUnits(balance, decimals)).toBe(SENDER_BALANCE);
			}
		} finally {
			await chain.stop();
		}
		// Stopped means gone.
		await expect(fetch(chain.rpcUrl, { method: "POST", body: "{}" })).rejects.toThrow();
	});

	it("says which port is taken when anvil cannot listen", async () => {
		const blocker = createServer();
		await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
		const port = (blocker.address() as { port: number }).port;
		try {
			await expect(startAnvil({ port })).rejects.toThrow(`Port ${port} is taken`);
		} finally {
			blocker.close();
		}
	});

	it.each(["staging", "production"])(
		"verifies every chain on chain in %s, on the real USDT contracts",
		(env) => {
			const config = parseChainConfig(consumerVars(env));
			expect(Object.values(config.chains).map((c) => c.mode)).toEqual(["chain", "chain", "chain"]);
			expect(config.chains.bep20).toMatchObject({
				token: { address: "0x55d398326f99059ff775485246999027b3197955", decimals: 18 },
			});
			expect(config.chains.erc20).toMatchObject({
				token: { address: "0xdac17f958d2ee523a2206206994597c13d831ec7", decimals: 6 },
			});
			expect(config.chains.trc20).toMatchObject({
				token: { address: "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t", decimals: 6 },
			});
		},
	);
});
