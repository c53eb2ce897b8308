/**
 * Verifies deposits on an EVM chain (BSC, Ethereum) through JSON-RPC: for a batch of claims,
 * ONE batched request per endpoint reads the head (`eth_blockNumber`), the token's
 * `decimals()`, the receipt of each distinct transaction and each block the claims were last
 * seen in. A receipt whose block was not among those (no `blockNumber` hint, or the transfer
 * moved) costs one more request for its block: a block hash is only kept once the block of
 * that number, read in the same answer, carries it.
 *
 * Endpoints are tried in order; one that fails in any way (down, slow, an error, an answer
 * that contradicts itself) is skipped for the next, and nothing from it is used.
 *
 * @module
 */
import { hexToBigInt, isHex } from "viem";
import type { ChainSettings, RpcEndpoint } from "./chain-config";
import { decodeTransferLog } from "./erc20-transfer";
import { jsonRpcBatch, type RpcCall } from "./json-rpc-batch";
import { firstAnswer, RpcTrouble } from "./rpc-error";
import { type ChainVerdict, judge, type Observation, type TransferClaim } from "./verdict";

type ChainMode = Extract<ChainSettings, { mode: "chain" }>;

/** `decimals()` */
const DECIMALS_SELECTOR = "0x313ce567";
const TX_HASH = /^0x[0-9a-f]{64}$/;

interface Receipt {
	transactionHash: string;
	blockHash: string;
	blockNumber: string;
	status: string;
	logs: { address: string; topics: `0x${string}`[]; data: `0x${string}`; logIndex: string }[];
}

function quantity(value: unknown, what: string): bigint {
	if (typeof value !== "string" || !isHex(value) || value === "0x") {
		throw new RpcTrouble(
			"inconsistent",
			`${what} is not a hex quantity: ${JSON.stringify(value)?.slice(0, 80)}`,
		);
	}
	return hexToBigInt(value);
}

function readReceipt(value: unknown, txHash: string): Receipt | null {
	if (value === null) return null;
	const r = value as Partial<Receipt> | undefined;
	if (
		!r ||
		typeof r.transactionHash !== "string" ||
		typeof r.blockHash !== "string" ||
		typeof r.status !== "string" ||
		!Array.isArray(r.logs)
	) {
		throw new RpcTrouble("inconsistent", `the receipt of ${txHash} is malformed`);
	}
	if (r.transactionHash.toLowerCase() !== txHash) {
		throw new RpcTrouble("inconsistent", `asked for the receipt of ${txHash}, got ${r.transactionHash}`);
	}
	return r as Receipt;
}

function blockHashOf(value: unknown, number: bigint): string {
	const block = value as { hash?: unknown; number?: unknown } | null;
	if (!block)
		throw new RpcTrouble(
			"inconsistent",
			`block ${number} is not known to the endpoint that gave its receipt`,
		);
	if (quantity(block.number, `the number of block ${number}`) !== number || typeof block.hash !== "string") {
		throw new RpcTrouble("inconsistent", `asked for block ${number}, got another one`);
	}
	return block.hash.toLowerCase();
}

/** The log at `logIndex` read as an ERC-20 Transfer, of whichever contract emitted it. */
function transferAt(receipt: Receipt, logIndex: number): Extract<Observation, { found: true }>["log"] {
	const log = receipt.logs.find((l) => {
		try {
			return quantity(l.logIndex, "a log index") === BigInt(logIndex);
		} catch {
			return false;
		}
	});
	if (!log) return null;
	const transfer = decodeTransferLog(log.topics, log.data);
	if (!transfer) return { transfer: null };
	return {
		transfer: {
			token: log.address.toLowerCase(),
			from: transfer.from.toLowerCase(),
			to: transfer.to.toLowerCase(),
			value: transfer.value.toString(),
		},
	};
}

async function verifyOn(
	settings: ChainMode,
	endpoint: RpcEndpoint,
	claims: readonly TransferClaim[],
	timeoutMs: number,
): Promise<ChainVerdict[]> {
	const hashes = [
		...new Set(claims.map((c) => c.txHash.trim().toLowerCase()).filter((h) => TX_HASH.test(h))),
	];
	const hinted = [
		...new Set(
			claims.flatMap((c) =>
				c.blockNumber && /^\d{1,20}$/.test(c.blockNumber) ? [BigInt(c.blockNumber)] : [],
			),
		),
	];
	const calls: RpcCall[] = [
		{ method: "eth_blockNumber", params: [] },
		{ method: "eth_call", params: [{ to: settings.token.address, data: DECIMALS_SELECTOR }, "latest"] },
		...hashes.map((h) => ({ method: "eth_getTransactionReceipt", params: [h] })),
		...hinted.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })),
	];
	const results = await jsonRpcBatch(endpoint, calls, timeoutMs);
	const head = quantity(results[0], "eth_blockNumber");
	const decimalsWord = results[1];
	if (decimalsWord === "0x" || typeof decimalsWord !== "string" || !isHex(decimalsWord)) {
		throw new RpcTrouble(
			"misconfigured",
			`no ERC-20 contract answers decimals() at ${settings.token.address}`,
		);
	}
	const decimals = hexToBigInt(decimalsWord);
	if (decimals !== BigInt(settings.token.decimals)) {
		throw new RpcTrouble(
			"misconfigured",
			`the token ${settings.token.address} has ${decimals} decimals on chain, CHAIN_TOKENS.${settings.chain}.decimals says ${settings.token.decimals}`,
		);
	}
	const receipts = new Map<string, Receipt | null>();
	hashes.forEach((h, i) => {
		receipts.set(h, readReceipt(results[2 + i], h));
	});
	const blockHashes = new Map<bigint, string>();
	hinted.forEach((n, i) => {
		const block = results[2 + hashes.length + i];
		// A hinted block above this endpoint's head is simply not there yet.
		if (block !== null) blockHashes.set(n, blockHashOf(block, n));
	});

	const needed = new Set<bigint>();
	for (const receipt of receipts.values()) {
		if (!receipt) continue;
		const number = quantity(receipt.blockNumber, "a receipt's block number");
		if (number > head) {
			throw new RpcTrouble("inconsistent", `a receipt is in block ${number}, above the head ${head}`);
		}
		if (!blockHashes.has(number)) needed.add(number);
	}
	if (needed.size > 0) {
		const numbers = [...needed];
		const blocks = await jsonRpcBatch(
			endpoint,
			numbers.map((n) => ({ method: "eth_getBlockByNumber", params: [`0x${n.toString(16)}`, false] })),
			timeoutMs,
		);
		numbers.forEach((n, i) => {
			blockHashes.set(n, blockHashOf(blocks[i], n));
		});
	}

	const token = {
		family: "evm" as const,
		address: settings.token.address,
		decimals: settings.token.decimals,
	};
	return claims.map((claim) => {
		const receipt = receipts.get(claim.txHash.trim().toLowerCase());
		if (!receipt) return judge(claim, { found: false, head }, token);
		const blockNumber = quantity(receipt.blockNumber, "a receipt's block number");
		const blockHash = receipt.blockHash.toLowerCase();
		if (blockHashes.get(blockNumber) !== blockHash) {
			throw new RpcTrouble(
				"inconsistent",
				`the receipt of ${claim.txHash} names block ${blockNumber} as ${blockHash}, the block of that number is ${blockHashes.get(blockNumber)}: the chain is reorganising or the endpoint's nodes disagree`,
			);
		}
		return judge(
			claim,
			{
				found: true,
				head,
				success: quantity(receipt.status, "a receipt's status") === 1n,
				blockNumber,
				blockHash,
				log: transferAt(receipt, claim.logIndex),
			},
			token,
		);
	});
}

/**
 * Verifies claims of one EVM chain, trying its endpoints in order.
 *
 * @throws {ChainRpcError} when no endpoint gave a usable answer (retry later; nothing is decided).
 */
export async function verifyEvmTransfers(
	settings: ChainMode,
	claims: readonly TransferClaim[],
	timeoutMs: number,
): Promise<ChainVerdict[]> {
	return firstAnswer(settings.chain, settings.endpoints, (endpoint) =>
		verifyOn(settings, endpoint, claims, timeoutMs),
	);
}
