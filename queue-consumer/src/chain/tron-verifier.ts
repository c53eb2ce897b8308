/**
 * Verifies TRC20 deposits through TRON's HTTP API (java-tron's `/wallet/*` endpoints, as
 * TronGrid serves them), behind the same interface as the EVM verifier. That API has no batch
 * form, so per endpoint it makes one round of requests side by side, the head
 * (`/wallet/getblock` without a number, header only), the token's `decimals()`
 * (`/wallet/triggerconstantcontract`) and `/wallet/gettransactioninfobyid` per distinct
 * transaction, then `/wallet/getblock` for each block those are in (its `blockID` is the block
 * hash, which the transaction info does not carry).
 *
 * `log_index` is the log's position in the transaction's `log` list. Logs carry 20-byte hex
 * addresses; they are compared and reported in base58 (`T…`).
 *
 * No TRON node runs on a developer machine or in CI: this is tested against answers written
 * from TRON's API documentation (queue-consumer/test/tron-verifier.test.ts).
 *
 * @module
 */
import { tronAddressFromHex } from "../../../schema/address-format";
import type { ChainSettings, RpcEndpoint } from "./chain-config";
import { decodeTransferLog } from "./erc20-transfer";
import { firstAnswer, RpcTrouble } from "./rpc-error";
import { type ChainVerdict, judge, type Observation, type TransferClaim } from "./verdict";

type ChainMode = Extract<ChainSettings, { mode: "chain" }>;

const TX_ID = /^[0-9a-f]{64}$/;

interface TransactionInfo {
	id?: string;
	blockNumber?: number;
	result?: string;
	receipt?: { result?: string };
	log?: { address?: string; topics?: string[]; data?: string }[];
}

interface BlockHeader {
	blockID?: string;
	block_header?: { raw_data?: { number?: number } };
}

async function post(endpoint: RpcEndpoint, path: string, body: unknown, timeoutMs: number): Promise<unknown> {
	const url = `${endpoint.url.replace(/\/+$/, "")}${path}`;
	let res: Response;
	try {
		res = await fetch(url, {
			method: "POST",
			headers: { "content-type": "application/json", ...endpoint.headers },
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(timeoutMs),
		});
	} catch (error) {
		const e = error as Error;
		throw new RpcTrouble(
			"unavailable",
			e.name === "TimeoutError" ? `${path}: no answer within ${timeoutMs} ms` : `${path}: ${e.message}`,
		);
	}
	const text = await res.text().catch(() => "");
	if (!res.ok) throw new RpcTrouble("unavailable", `${path}: HTTP ${res.status}`);
	let data: unknown;
	try {
		data = JSON.parse(text);
	} catch {
		throw new RpcTrouble("unavailable", `${path}: the answer is not JSON`);
	}
	// java-tron reports many failures as HTTP 200 with {"Error": "…"}.
	const failure = (data as { Error?: unknown } | null)?.Error;
	if (failure !== undefined) throw new RpcTrouble("unavailable", `${path}: ${String(failure).slice(0, 200)}`);
	if (!data || typeof data !== "object")
		throw new RpcTrouble("unavailable", `${path}: the answer is not an object`);
	return data;
}

function headerNumber(block: BlockHeader, what: string): bigint {
	const number = block.block_header?.raw_data?.number;
	if (!Number.isSafeInteger(number) || typeof block.blockID !== "string" || !TX_ID.test(block.blockID)) {
		throw new RpcTrouble("inconsistent", `${what} has no block number or blockID`);
	}
	return BigInt(number!);
}

/** The log at `logIndex` of a transaction, read as an ERC-20 Transfer. */
function transferAt(info: TransactionInfo, logIndex: number): Extract<Observation, { found: true }>["log"] {
	const log = info.log?.[logIndex];
	if (!log) return null;
	if (typeof log.address !== "string") return { transfer: null };
	const topics = (log.topics ?? []).map((t) => `0x${t}` as const);
	const transfer = decodeTransferLog(topics, `0x${log.data ?? ""}`);
	if (!transfer) return { transfer: null };
	try {
		return {
			transfer: {
				token: tronAddressFromHex(log.address),
				from: tronAddressFromHex(transfer.from),
				to: tronAddressFromHex(transfer.to),
				value: transfer.value.toString(),
			},
		};
	} catch {
		throw new RpcTrouble("inconsistent", `a log of transaction ${info.id} has a malformed address`);
	}
}

async function verifyOn(
	settings: ChainMode,
	endpoint: RpcEndpoint,
	claims: readonly TransferClaim[],
	timeoutMs: number,
): Promise<ChainVerdict[]> {
	const ids = [
		...new Set(
			claims.map((c) => c.txHash.trim().toLowerCase().replace(/^0x/, "")).filter((h) => TX_ID.test(h)),
		),
	];
	const [headBlock, decimalsAnswer, ...infos] = await Promise.all([
		post(endpoint, "/wallet/getblock", { detail: false }, timeoutMs),
		post(
			endpoint,
			"/wallet/triggerconstantcontract",
			{
				owner_address: settings.token.address,
				contract_address: settings.token.address,
				function_selector: "decimals()",
				visible: true,
			},
			timeoutMs,
		),
		...ids.map((value) => post(endpoint, "/wallet/gettransactioninfobyid", { value }, timeoutMs)),
	]);
	const head = headerNumber(headBlock as BlockHeader, "the head block");
	const word = (decimalsAnswer as { constant_result?: unknown[] }).constant_result?.[0];
	if (typeof word !== "string" || !/^[0-9a-f]{64}$/i.test(word)) {
		throw new RpcTrouble(
			"misconfigured",
			`no TRC20 contract answers decimals() at ${settings.token.address}`,
		);
	}
	if (BigInt(`0x${word}`) !== BigInt(settings.token.decimals)) {
		throw new RpcTrouble(
			"misconfigured",
			`the token ${settings.token.address} has ${BigInt(`0x${word}`)} decimals on chain, CHAIN_TOKENS.${settings.chain}.decimals says ${settings.token.decimals}`,
		);
	}
	const byId = new Map<string, TransactionInfo | null>();
	for (const [i, id] of ids.entries()) {
		const info = infos[i] as TransactionInfo;
		// An unknown transaction is an empty object.
		if (info.id === undefined) {
			byId.set(id, null);
			continue;
		}
		if (info.id.toLowerCase() !== id || !Number.isSafeInteger(info.blockNumber)) {
			throw new RpcTrouble(
				"inconsistent",
				`the transaction info of ${id} is malformed or of another transaction`,
			);
		}
		if (BigInt(info.blockNumber!) > head) {
			throw new RpcTrouble(
				"inconsistent",
				`transaction ${id} is in block ${info.blockNumber}, above the head ${head}`,
			);
		}
		byId.set(id, info);
	}
	const numbers = [...new Set([...byId.values()].flatMap((info) => (info ? [info.blockNumber!] : [])))];
	const blocks = await Promise.all(
		numbers.map((n) =>
			post(endpoint, "/wallet/getblock", { id_or_num: String(n), detail: false }, timeoutMs),
		),
	);
	const blockHashes = new Map<number, string>();
	numbers.forEach((n, i) => {
		const block = blocks[i] as BlockHeader;
		if (headerNumber(block, `block ${n}`) !== BigInt(n))
			throw new RpcTrouble("inconsistent", `asked for block ${n}, got another one`);
		blockHashes.set(n, block.blockID!.toLowerCase());
	});

	const token = {
		family: "tron" as const,
		address: settings.token.address,
		decimals: settings.token.decimals,
	};
	return claims.map((claim) => {
		const info = byId.get(claim.txHash.trim().toLowerCase().replace(/^0x/, ""));
		if (!info) return judge(claim, { found: false, head }, token);
		const success = info.result !== "FAILED" && (info.receipt?.result ?? "SUCCESS") === "SUCCESS";
		return judge(
			claim,
			{
				found: true,
				head,
				success,
				blockNumber: BigInt(info.blockNumber!),
				blockHash: blockHashes.get(info.blockNumber!)!,
				log: transferAt(info, claim.logIndex),
			},
			token,
		);
	});
}

/**
 * Verifies TRC20 claims, trying the chain's endpoints in order.
 *
 * @throws {ChainRpcError} when no endpoint gave a usable answer (retry later; nothing is decided).
 */
export async function verifyTronTransfers(
	settings: ChainMode,
	claims: readonly TransferClaim[],
	timeoutMs: number,
): Promise<ChainVerdict[]> {
	return firstAnswer(settings.chain, settings.endpoints, (endpoint) =>
		verifyOn(settings, endpoint, claims, timeoutMs),
	);
}
