/**
 * The chain of the consumer's tests, started once per run: anvil with the local USDT-like
 * tokens deployed (ops/local/local-chain.ts) plus a second token of 18 decimals (a transfer of
 * "some other token"), a counting, fault-injecting proxy in front of it (rpc-proxy.ts), a port
 * where nothing listens (an endpoint that is down), and the TRON stand-in (tron-stand-in.ts).
 * Anvil mines a block per transaction; tests mine more themselves.
 *
 * @module
 */
import { createServer } from "node:net";
import type { TestProject } from "vitest/node";
import { deployToken, SENDER, startLocalChain } from "../ops/local/local-chain";
import { startRpcProxy } from "./rpc-proxy";
import type { ProvidedChain } from "./support/chain-context";
import { startTronStandIn } from "./tron-stand-in";

async function deadPort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
		});
	});
}

export default async function setup(project: TestProject) {
	const chain = await startLocalChain();
	const otherToken = await deployToken(chain.rpcUrl, {
		name: "Other USD",
		decimals: 18,
		holder: SENDER.address,
	});
	const proxy = await startRpcProxy(chain.rpcUrl);
	const tron = await startTronStandIn();
	const provided: ProvidedChain = {
		rpcUrl: chain.rpcUrl,
		proxyOrigin: proxy.origin,
		deadRpcUrl: `http://127.0.0.1:${await deadPort()}`,
		tokens: chain.tokens,
		otherToken,
		sender: chain.sender.address,
		tronOrigin: tron.origin,
	};
	project.provide("chain", provided);
	return async () => {
		await tron.close();
		await proxy.close();
		await chain.stop();
	};
}
