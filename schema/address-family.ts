/**
 * Deposit address families: chains whose addresses are one and the same key. An EVM address is
 * the same account on BEP20 and ERC20 (whoever holds its key receives on both), so it has one
 * owner on every EVM chain; a TRON address belongs to TRC20 alone.
 *
 * `deposit_addresses` is keyed by (family, address), with the address in its stored form: EVM
 * lower-case hex, TRON base58check exactly as given (base58 is case-sensitive: changing a
 * letter's case makes another, almost surely invalid, address). Every query that looks a
 * deposit's `to_address` up builds its condition with {@link addressMatchSql}, so settlement,
 * the API and the migrations agree on what "the same address" means.
 *
 * @module
 */
import { CHAINS, type Chain } from "./queue-message";

export const FAMILIES = ["evm", "tron"] as const;
export type Family = (typeof FAMILIES)[number];

/** Each chain's address family. */
export const CHAIN_FAMILY: Readonly<Record<Chain, Family>> = { bep20: "evm", erc20: "evm", trc20: "tron" };

/** Whether a family's addresses compare with their letters' case (TRON) or without (EVM hex). */
const CASE_SENSITIVE: Readonly<Record<Family, boolean>> = { evm: false, tron: true };

/** The chains an address of `family` receives on, in the order of {@link CHAINS}. */
export function chainsOf(family: Family): Chain[] {
	return CHAINS.filter((chain) => CHAIN_FAMILY[chain] === family);
}

/**
 * SQL: the family of the chain named by the SQL expression `chain` (NULL for a chain of no
 * family, so it matches no address).
 *
 * @example
 * ```ts
 * `SELECT ${familyOfChainSql("d.chain")} AS family FROM deposits d`
 * // CASE d.chain WHEN 'bep20' THEN 'evm' WHEN 'erc20' THEN 'evm' WHEN 'trc20' THEN 'tron' END
 * ```
 */
export function familyOfChainSql(chain: string): string {
	const whens = CHAINS.map((c) => `WHEN '${c}' THEN '${CHAIN_FAMILY[c]}'`).join(" ");
	return `CASE ${chain} ${whens} END`;
}

/** SQL: the address `address` (an SQL expression) in its stored form for the chain `chain`. */
export function storedAddressSql(chain: string, address: string): string {
	const sensitive = CHAINS.filter((c) => CASE_SENSITIVE[CHAIN_FAMILY[c]]).map((c) => `'${c}'`);
	return `CASE WHEN ${chain} IN (${sensitive.join(", ")}) THEN ${address} ELSE lower(${address}) END`;
}

/**
 * SQL: the row `alias` of `deposit_addresses` is the address `address` on the chain `chain`
 * (both SQL expressions, e.g. a deposit's columns). Uses the (family, address) unique index.
 * Whether the address is issued to anyone is the caller's to add (`alias.user_id IS NOT NULL`).
 *
 * @example
 * ```ts
 * `LEFT JOIN deposit_addresses a ON ${addressMatchSql("a", "d.chain", "d.to_address")} AND a.user_id IS NOT NULL`
 * ```
 */
export function addressMatchSql(alias: string, chain: string, address: string): string {
	return `${alias}.family = ${familyOfChainSql(chain)} AND ${alias}.address = ${storedAddressSql(chain, address)}`;
}
