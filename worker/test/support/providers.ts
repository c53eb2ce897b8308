/**
 * Provider webhooks as the providers send them, written from their documentation:
 * - Moralis Streams: the payload of https://docs.moralis.com/streams/webhooks/webhook-payloads
 *   and the Streams API's webhook model (every number a string; `erc20Transfers[]` with
 *   `transactionHash`, `logIndex`, `contract`, `from`, `to`, `value`, `tokenDecimals`,
 *   `triggered_by`), the mandatory test webhook of
 *   https://docs.moralis.com/streams/quickstart/receive-your-first-webhook, and the signature
 *   `x-signature: web3.utils.sha3(JSON.stringify(body) + secret)` of
 *   https://docs.moralis.com/streams/security-and-reliability/webhook-security, computed here
 *   with `js-sha3` (another Keccak-256 than the Worker's).
 * - Alchemy Notify: the Address Activity example of
 *   https://www.alchemy.com/docs/reference/address-activity-webhook and
 *   `X-Alchemy-Signature: hex HMAC-SHA256(signing key, raw body)` of
 *   https://www.alchemy.com/docs/reference/notify-api-quickstart ("Webhook signature & security").
 *
 * @module
 */
import { keccak256 } from "js-sha3";
import { TEST_ALCHEMY_SIGNING_KEY, TEST_MORALIS_SECRET } from "../../../test/projects";
import { BASE, randomTxHash } from "../../../test/support/webhooks";

export const MORALIS_URL = `${BASE}/api/v1/webhooks/moralis`;
export const ALCHEMY_URL = `${BASE}/api/v1/webhooks/alchemy`;

/** USDT on BSC (18 decimals) and on Ethereum (6 decimals). */
export const USDT_BSC = "0x55d398326f99059ff775485246999027b3197955";
export const USDT_ETH = "0xdac17f958d2ee523a2206206994597c13d831ec7";
/** Another ERC-20 (USDC on Ethereum, the token of Alchemy's own example). */
export const USDC_ETH = "0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48";

export function randomAddress(): string {
	const bytes = crypto.getRandomValues(new Uint8Array(20));
	return `0x${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

type Init = RequestInit & { headers: Record<string, string>; body: string };

/** The mandatory test webhook Moralis sends when a stream is created or updated (from its docs). */
export const MORALIS_TEST_WEBHOOK = {
	abi: {},
	block: { hash: "", number: "", timestamp: "" },
	txs: [],
	txsInternal: [],
	logs: [],
	chainId: "",
	tag: "",
	streamId: "",
	confirmed: true,
	retries: 0,
	erc20Approvals: [],
	erc20Transfers: [],
	nftApprovals: [],
	nftTransfers: [],
};

/** One entry of `erc20Transfers`, a USDT transfer on BSC to `to` unless told otherwise. */
export function moralisTransfer(o: Partial<Record<string, unknown>> & { to: string; value: string }) {
	return {
		transactionHash: randomTxHash(),
		logIndex: "60",
		contract: USDT_BSC,
		from: randomAddress(),
		tokenName: "Tether USD",
		tokenSymbol: "USDT",
		tokenDecimals: "18",
		valueWithDecimals: "(not read)",
		possibleSpam: false,
		triggered_by: [o.to],
		...o,
	};
}

/** A Moralis Streams EVM webhook carrying `transfers`, on BSC unless told otherwise. */
export function moralisPayload(
	transfers: unknown[],
	o: { confirmed?: boolean; chainId?: string; tag?: string } = {},
) {
	return {
		confirmed: o.confirmed ?? true,
		chainId: o.chainId ?? "0x38",
		abi: [],
		streamId: "c28d9e2e-ae9d-4fe6-9fc0-5fcde2dcdd17",
		tag: o.tag ?? "cricalgo_deposits",
		retries: 0,
		block: {
			number: "45120331",
			hash: "0x3aa07bd98e328db97ec273ce06b3a15fc645931fbd26337fe20c48b274277f76",
			timestamp: "1731242247",
		},
		logs: [],
		txs: [],
		txsInternal: [],
		erc20Transfers: transfers,
		erc20Approvals: [],
		nftApprovals: { ERC721: [], ERC1155: [] },
		nftTransfers: [],
		nativeBalances: [],
	};
}

/** Moralis' signature of a body: `0x` + Keccak-256 of the body followed by the secret. */
export function moralisSignature(body: string, secret = TEST_MORALIS_SECRET): string {
	return `0x${keccak256(body + secret)}`;
}

/** A request as Moralis sends it: the body is `JSON.stringify` of the payload, signed. */
export function moralisInit(payload: unknown, secret = TEST_MORALIS_SECRET): Init {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	return {
		method: "POST",
		headers: { "content-type": "application/json", "x-signature": moralisSignature(body, secret) },
		body,
	};
}

const hex64 = (n: bigint) => `0x${n.toString(16).padStart(64, "0")}`;

/** One `activity[]` entry: a token transfer of `raw` base units to `to`, as Alchemy's example writes it. */
export function alchemyActivity(
	o: { to: string; raw: bigint; token?: string; decimals?: number } & Record<string, unknown>,
) {
	const { to, raw, token = USDT_ETH, decimals = 6, ...rest } = o;
	const hash = randomTxHash();
	const from = randomAddress();
	return {
		blockNum: "0xdf34a3",
		hash,
		fromAddress: from,
		toAddress: to,
		value: Number(raw) / 10 ** decimals,
		erc721TokenId: null,
		erc1155Metadata: null,
		asset: "USDT",
		category: "token",
		rawContract: { rawValue: hex64(raw), address: token, decimals },
		typeTraceAddress: null,
		log: {
			address: token,
			topics: [
				"0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef",
				`0x000000000000000000000000${from.slice(2)}`,
				`0x000000000000000000000000${to.slice(2)}`,
			],
			data: hex64(raw),
			blockNumber: "0xdf34a3",
			transactionHash: hash,
			transactionIndex: "0x46",
			blockHash: "0xa99ec54413bd3db3f9bdb0c1ad3ab1400ee0ecefb47803e17f9d33bc4d0a1e91",
			logIndex: "0x6e",
			removed: false,
		},
		...rest,
	};
}

/** An Address Activity webhook carrying `activity`, on Ethereum unless told otherwise. */
export function alchemyPayload(activity: unknown[], network = "ETH_MAINNET") {
	return {
		webhookId: "wh_k63lg72rxda78gce",
		id: `whevt_${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}`,
		createdAt: new Date().toISOString(),
		type: "ADDRESS_ACTIVITY",
		event: { network, activity },
	};
}

/** Alchemy's signature: hex HMAC-SHA256 of the raw body, keyed by the signing key's text. */
async function alchemySignature(body: string, key = TEST_ALCHEMY_SIGNING_KEY): Promise<string> {
	const hmacKey = await crypto.subtle.importKey(
		"raw",
		new TextEncoder().encode(key),
		{ name: "HMAC", hash: "SHA-256" },
		false,
		["sign"],
	);
	const mac = await crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(body));
	return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function alchemyInit(payload: unknown, key = TEST_ALCHEMY_SIGNING_KEY): Promise<Init> {
	const body = typeof payload === "string" ? payload : JSON.stringify(payload);
	return {
		method: "POST",
		headers: { "content-type": "application/json", "x-alchemy-signature": await alchemySignature(body, key) },
		body,
	};
}
