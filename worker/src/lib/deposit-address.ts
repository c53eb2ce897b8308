/**
 * Deposit addresses as the API accepts and stores them. Settlement attributes a deposit that
 * names no user by looking up `deposit_addresses(chain, lower(to_address))`, so addresses are
 * stored trimmed and lower-cased.
 *
 * @module
 */
import { z } from "zod";
import { CHAINS, type Chain } from "../../../schema/queue-message";

/** What an address looks like on each chain (EVM hex for BEP20/ERC20, base58check for TRC20). */
const ADDRESS_PATTERNS: Record<Chain, RegExp> = {
	bep20: /^0x[0-9a-fA-F]{40}$/,
	erc20: /^0x[0-9a-fA-F]{40}$/,
	trc20: /^T[1-9A-HJ-NP-Za-km-z]{33}$/,
};

/** `{chain, address}`, checked against the chain's address format, address lower-cased. */
export const depositAddressSchema = z
	.object({
		chain: z.enum(CHAINS),
		address: z.string().trim().max(128),
	})
	.superRefine((value, ctx) => {
		if (!ADDRESS_PATTERNS[value.chain].test(value.address)) {
			ctx.addIssue({
				code: "custom",
				path: ["address"],
				message: `not a ${value.chain} address`,
			});
		}
	})
	.transform((value) => ({ chain: value.chain, address: value.address.toLowerCase() }));
