/**
 * The deposit's `tx_id`: a UUIDv5 of (chain, tx_hash, log_index), so every redelivery of one
 * deposit gets the same id, whichever edge location or Worker version receives it. It is
 * `deposits.id`.
 *
 * The webhook route passes the canonical hash (shared/webhook/payload.ts: lower case, TRON without
 * `0x`), so the id does not depend on how a sender spelled the hash.
 *
 * @module
 */
import { v5 as uuidv5 } from "uuid";
import type { Chain } from "./queue-message";

/** UUIDv5 namespace of CricAlgo deposit ids. Never change it: ids already given out depend on it. */
export const DEPOSIT_NAMESPACE = "4f0b7a8e-2c1d-5e6f-9a0b-c1d2e3f4a5b6";

/** EVM hashes are case-insensitive hex; TRON hashes are hex too. Normalise both. */
export function normaliseTxHash(txHash: string): string {
	return txHash.trim().toLowerCase();
}

/**
 * UUIDv5 of `${chain}:${lower(trim(tx_hash))}:${logIndex}`.
 *
 * @example
 * ```ts
 * const id = await depositTxId("bep20", "0xabc…", 0); // the same for every redelivery
 * ```
 */
export async function depositTxId(chain: Chain, txHash: string, logIndex: number): Promise<string> {
	return uuidv5(`${chain}:${normaliseTxHash(txHash)}:${logIndex}`, DEPOSIT_NAMESPACE);
}
