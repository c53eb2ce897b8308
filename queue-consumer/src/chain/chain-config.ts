/**
 * On-chain verification settings of the consumer, per chain, read from its `[vars]`
 * (queue-consumer/wrangler.toml) and checked with zod. A chain in `chain` mode without a
 * usable endpoint or token is a configuration error, never a silent fall back to trusting
 * senders: verification fails closed.
 *
 * Variables (each a TOML table per chain, or the same as a JSON string, as a dashboard
 * variable, a secret or `wrangler dev`'s environment gives it):
 * - `CHAIN_VERIFICATION`: `"chain"` (the default: a deposit is credited only once its
 *   transfer is found on chain) or `"sender"` (the signed webhook is trusted), for every chain
 *   at once or per chain.
 * - `CHAIN_RPC_URLS`: endpoints per chain, tried in order (the first that answers wins). EVM
 *   chains: JSON-RPC URLs; TRON: the base URL of its HTTP API. An entry is a URL or
 *   `{ url, headers }` (e.g. TronGrid's `TRON-PRO-API-KEY`). Endpoints that carry API keys
 *   belong in a secret of the same name, not in wrangler.toml.
 * - `CHAIN_TOKENS`: the token contract per chain and its decimals.
 * - `REORG_WINDOW`: how many blocks a credited deposit is still checked for a reorg; at least
 *   the chain's `CONFIRMATIONS`, or a credit could leave the window before it happens.
 * - `CHAIN_RPC_TIMEOUT_MS`: one request's time limit (default 5000).
 *
 * USDT's decimals, as its contracts declare them: 18 on BSC (0x55d3…7955), 6 on Ethereum
 * (0xdAC1…1ec7) and 6 on TRON (TR7NH…Lj6t). The EVM verifier also reads `decimals()` from the
 * contract in every request, so a wrong value here stops verification instead of crediting
 * a thousand-fold amount.
 *
 * @module
 */
import { isAddress } from "viem";
import { parseAddress } from "../../../schema/address-format";
import { CHAINS, type Chain } from "../../../schema/queue-message";
import * as z from "../../../schema/zod";
import { ConfigError } from "../config";

export type ChainFamily = "evm" | "tron";

/** The family of each chain: how its transfers are read and its addresses written. */
export const CHAIN_FAMILY: Record<Chain, ChainFamily> = { bep20: "evm", erc20: "evm", trc20: "tron" };

export interface RpcEndpoint {
	url: string;
	headers: Record<string, string>;
}

interface TokenContract {
	/** EVM: lower-case 0x hex; TRON: base58 (`T…`). */
	address: string;
	decimals: number;
}

export type ChainSettings =
	| { chain: Chain; mode: "sender" }
	| {
			chain: Chain;
			mode: "chain";
			family: ChainFamily;
			/** In order of preference; at least one. */
			endpoints: RpcEndpoint[];
			token: TokenContract;
			/** Blocks after its own during which a credited deposit is checked again. */
			reorgWindow: number;
	  };

export interface ChainVerificationConfig {
	chains: Record<Chain, ChainSettings>;
	/** Time limit of one request to an endpoint, ms. */
	rpcTimeoutMs: number;
}

/**
 * A table from TOML, or the same as JSON text (a variable set from the environment, which
 * wrangler passes as text, JSON strings included); anything else is left for zod to refuse.
 */
const fromJsonText = (v: unknown) => {
	if (typeof v !== "string") return v;
	const text = v.trim();
	if (!text.startsWith("{") && !text.startsWith("[") && !text.startsWith('"')) return v;
	try {
		return JSON.parse(text);
	} catch {
		return v;
	}
};

const perChain = <T extends z.ZodMiniType>(value: T, example: string) =>
	z.pipe(
		z.transform(fromJsonText),
		z.partialRecord(z.enum(CHAINS), value, {
			error: (issue) =>
				issue.code === "invalid_type" ? `must be a table per chain, e.g. ${example}` : undefined,
		}),
	);

const mode = z.enum(["chain", "sender"], { error: 'must be "chain" or "sender"' });

const modeSchema = z.pipe(
	z.transform((v: unknown) => (v === undefined || v === "" ? "chain" : fromJsonText(v))),
	z.union([mode, z.partialRecord(z.enum(CHAINS), mode)], {
		error: 'must be "chain", "sender", or a table per chain such as { bep20 = "chain", trc20 = "sender" }',
	}),
);

const url = z.string().check(
	z.trim(),
	z.refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), "must be an http(s) URL"),
);

/** A URL, or `{ url, headers }`. */
const endpointSchema = z.pipe(
	z.transform((v: unknown) => (typeof v === "string" ? { url: v } : v)),
	z.strictObject(
		{ url, headers: z._default(z.record(z.string(), z.string()), {}) },
		{ error: 'must be a URL or { url = "https://…", headers = { … } }' },
	),
);

const tokenSchema = z.strictObject({
	address: z.string().check(z.trim(), z.minLength(1)),
	decimals: z.number().check(z.int(), z.gte(0), z.lte(36)),
});

const windowSchema = z.number().check(z.int(), z.gte(1), z.lte(100_000));

const configSchema = z.object({
	CHAIN_VERIFICATION: modeSchema,
	CHAIN_RPC_URLS: z._default(
		perChain(
			z.array(endpointSchema).check(z.maxLength(8)),
			'{ bep20 = ["https://bsc-dataseed.bnbchain.org"] }',
		),
		{},
	),
	CHAIN_TOKENS: z._default(perChain(tokenSchema, '{ bep20 = { address = "0x55d3…", decimals = 18 } }'), {}),
	REORG_WINDOW: z._default(perChain(windowSchema, "{ bep20 = 64, erc20 = 96, trc20 = 27 }"), {}),
	CHAIN_RPC_TIMEOUT_MS: z.pipe(
		z.transform((v: unknown) =>
			v === undefined || v === "" ? 5_000 : typeof v === "string" ? Number(v) : v,
		),
		z.number().check(z.int(), z.gte(100), z.lte(60_000)),
	),
	/** Read only to check that each reorg window outlasts its chain's threshold. */
	CONFIRMATIONS: z.catch(
		z.optional(z.pipe(z.transform(fromJsonText), z.record(z.string(), z.unknown()))),
		undefined,
	),
});

/** The token's address in its stored form, or why it is not one. */
function tokenAddress(family: ChainFamily, address: string): { address: string } | { error: string } {
	if (family === "evm") {
		return isAddress(address)
			? { address: address.toLowerCase() }
			: { error: "must be a 0x address of 40 hex digits (a mixed-case one must match its checksum)" };
	}
	return parseAddress("tron", address).ok
		? { address }
		: { error: "must be a base58 TRON address (T…) with a valid checksum" };
}

/**
 * Reads the verification settings of every chain from the consumer's environment.
 *
 * @throws {ConfigError} naming every variable and chain that is wrong, and how to fix it.
 * @example
 * ```ts
 * const config = parseChainConfig(env);
 * const bsc = config.chains.bep20;
 * if (bsc.mode === "chain") bsc.endpoints[0]?.url; // "http://127.0.0.1:8545" locally
 * ```
 */
export function parseChainConfig(env: Record<string, unknown>): ChainVerificationConfig {
	const fail = (detail: string): never => {
		throw new ConfigError(
			`invalid chain verification configuration (queue-consumer/wrangler.toml [vars]):\n${detail}`,
		);
	};
	const parsed = configSchema.safeParse(env);
	if (!parsed.success) fail(z.prettifyError(parsed.error));
	const c = parsed.data!;
	const problems: string[] = [];
	const chains = {} as Record<Chain, ChainSettings>;
	for (const chain of CHAINS) {
		const chainMode =
			typeof c.CHAIN_VERIFICATION === "string"
				? c.CHAIN_VERIFICATION
				: (c.CHAIN_VERIFICATION[chain] ?? "chain");
		if (chainMode === "sender") {
			chains[chain] = { chain, mode: "sender" };
			continue;
		}
		const family = CHAIN_FAMILY[chain];
		const endpoints = c.CHAIN_RPC_URLS[chain] ?? [];
		const token = c.CHAIN_TOKENS[chain];
		const reorgWindow = c.REORG_WINDOW[chain];
		const fix = `(or set CHAIN_VERIFICATION.${chain} = "sender" to trust signed webhooks instead)`;
		if (endpoints.length === 0) {
			problems.push(`✖ CHAIN_RPC_URLS.${chain}: ${chain} is verified on chain but has no endpoint ${fix}`);
		}
		let address: string | undefined;
		if (!token) {
			problems.push(
				`✖ CHAIN_TOKENS.${chain}: ${chain} is verified on chain but has no token contract ${fix}`,
			);
		} else {
			const checked = tokenAddress(family, token.address);
			if ("error" in checked) problems.push(`✖ CHAIN_TOKENS.${chain}.address: ${checked.error}`);
			else address = checked.address;
		}
		if (reorgWindow === undefined) {
			problems.push(`✖ REORG_WINDOW.${chain}: ${chain} is verified on chain but has no reorg window ${fix}`);
		} else {
			const threshold = c.CONFIRMATIONS?.[chain];
			if (typeof threshold === "number" && reorgWindow < threshold) {
				problems.push(
					`✖ REORG_WINDOW.${chain}: ${reorgWindow} is shorter than CONFIRMATIONS.${chain} (${threshold}): a credit would come after the window closed`,
				);
			}
		}
		if (endpoints.length > 0 && token && address && reorgWindow !== undefined) {
			chains[chain] = {
				chain,
				mode: "chain",
				family,
				endpoints,
				token: { address, decimals: token.decimals },
				reorgWindow,
			};
		}
	}
	if (problems.length > 0) fail(problems.join("\n"));
	return { chains, rpcTimeoutMs: c.CHAIN_RPC_TIMEOUT_MS };
}
