/**
 * A real USDT transfer on the local chain, as a player's wallet makes it, read back as the
 * blockchain watcher reads it: transaction hash, the Transfer log's index in its block, the
 * block number, and confirmations counted from the chain's head. Used by `ops webhook`.
 *
 * @module
 */
import {
	type Address,
	createPublicClient,
	createWalletClient,
	encodeFunctionData,
	erc20Abi,
	type Hex,
	http,
	isAddress,
	parseEventLogs,
	parseUnits,
} from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { anvilChain, LOCAL_TOKENS, type LocalEvmChain, SENDER_PRIVATE_KEY } from "./local-chain";

interface ObservedTransfer {
	txHash: Hex;
	logIndex: number;
	blockNumber: bigint;
	confirmations: number;
}

/** The raw value of a decimal amount, refusing one with more decimals than the token has. */
function tokenUnits(amount: string, decimals: number): bigint {
	const match = /^(\d+)(?:\.(\d+))?$/.exec(amount);
	if (!match || !/[1-9]/.test(amount))
		throw new Error(`--amount must be a positive decimal such as 25.5, not "${amount}"`);
	if ((match[2] ?? "").replace(/0+$/, "").length > decimals) {
		throw new Error(`--amount ${amount} has more decimals than the token's ${decimals}`);
	}
	return parseUnits(amount, decimals);
}

/**
 * Sends `amount` USDT of the local `chain`'s token from the funded sender to `to`, waits until
 * it has `confirmations` (reporting each new count), and returns what the chain says.
 *
 * @throws when the chain cannot be reached, the address is not one, or the transfer fails.
 */
export async function transferOnLocalChain(options: {
	rpcUrl: string;
	chain: LocalEvmChain;
	to: string;
	amount: string;
	confirmations: number;
	onProgress?: (line: string) => void;
}): Promise<ObservedTransfer> {
	if (!isAddress(options.to)) {
		throw new Error(
			`--to-address must be a 0x address of 40 hex digits (a mixed-case one must match its checksum), not "${options.to}"`,
		);
	}
	const token = LOCAL_TOKENS[options.chain];
	const value = tokenUnits(options.amount, token.decimals);
	const chain = anvilChain(options.rpcUrl);
	const client = createPublicClient({ chain, transport: http(options.rpcUrl, { retryCount: 0 }) });
	const wallet = createWalletClient({
		account: privateKeyToAccount(SENDER_PRIVATE_KEY),
		chain,
		transport: http(options.rpcUrl, { retryCount: 0 }),
	});
	let txHash: Hex;
	try {
		txHash = await wallet.sendTransaction({
			to: token.address,
			data: encodeFunctionData({
				abi: erc20Abi,
				functionName: "transfer",
				args: [options.to as Address, value],
			}),
			gas: 100_000n,
		});
	} catch (error) {
		throw new Error(
			`could not send the transfer to the local chain at ${options.rpcUrl}: ${(error as { shortMessage?: string }).shortMessage ?? (error as Error).message}. Is the stack running (npm start)? --synthetic sends a webhook without a transfer.`,
		);
	}
	const receipt = await client.waitForTransactionReceipt({
		hash: txHash,
		pollingInterval: 250,
		timeout: 60_000,
	});
	if (receipt.status !== "success") throw new Error(`the transfer ${txHash} failed on chain (reverted)`);
	const [log] = parseEventLogs({ abi: erc20Abi, eventName: "Transfer", logs: receipt.logs });
	if (!log) throw new Error(`the transfer ${txHash} emitted no Transfer log`);
	options.onProgress?.(
		`transferred ${options.amount} USDT (${options.chain} token ${token.address}) to ${options.to}: ${txHash}, block ${receipt.blockNumber}, log ${log.logIndex}`,
	);
	let seen = 0;
	for (;;) {
		const head = await client.getBlockNumber({ cacheTime: 0 });
		const confirmations = Number(head - receipt.blockNumber + 1n);
		if (confirmations !== seen) {
			seen = confirmations;
			options.onProgress?.(
				`confirmations: ${Math.min(confirmations, options.confirmations)}/${options.confirmations}`,
			);
		}
		if (confirmations >= options.confirmations) {
			return { txHash, logIndex: log.logIndex, blockNumber: receipt.blockNumber, confirmations };
		}
		await new Promise((r) => setTimeout(r, 250));
	}
}
