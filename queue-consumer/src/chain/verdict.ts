/**
 * What verification asks about one deposit and what the chain answers, shared by the EVM and
 * the TRON verifiers; and the one rule that turns an observed transfer into a verdict, so both
 * families judge alike.
 *
 * @module
 */
import { formatUnits } from "viem";
import type { Chain } from "../../../schema/queue-message";
import type { ChainFamily } from "./chain-config";

/** Why a deposit does not match its chain, checked in this order. Never credited. */
const MISMATCHES = [
	"not_found",
	"failed",
	"not_a_transfer",
	"other_token",
	"other_recipient",
	"other_amount",
] as const;
type Mismatch = (typeof MISMATCHES)[number];

/** One deposit to check. */
export interface TransferClaim {
	chain: Chain;
	txHash: string;
	/**
	 * EVM: the log's index in its block (`logIndex` of receipts and `eth_getLogs`, what watchers
	 * report). TRON: the log's position in the transaction's `log` list.
	 */
	logIndex: number;
	/**
	 * Addresses the transfer must go to: the deposit's address, or the platform's addresses
	 * of the player where attribution is by `user_id`. EVM in any case; TRON in base58.
	 */
	recipients: readonly string[];
	/** The amount to credit, an exact decimal string (as the ledger holds it). */
	amount: string;
	/**
	 * The block the transfer was last seen in (the webhook's `block_number`, or the block kept
	 * from the last check), as a decimal string. With it, the request that reads the receipt
	 * also reads that block and proves the receipt's block hash is canonical; without it (or
	 * when the transfer moved), the EVM verifier needs a second request for the block.
	 */
	blockNumber?: string | null;
}

/** The log at `logIndex`, read as an ERC-20 `Transfer`. Addresses as the chain family writes them. */
interface TransferOnChain {
	/** The contract that emitted the log. */
	token: string;
	from: string;
	to: string;
	/** Raw integer value, decimal string. */
	value: string;
	/** `value` in tokens with the configured decimals, exact (e.g. "25.5"). */
	amount: string;
}

/** What the chain says about one claim, as of the head it was read at. */
export interface ChainVerdict {
	/** The transaction is in a block on the endpoint's canonical chain. */
	found: boolean;
	/** Whether it succeeded; null when not found. */
	success: boolean | null;
	blockNumber: string | null;
	blockHash: string | null;
	/** head − block + 1; null when not found. */
	confirmations: number | null;
	/** The head block number the answer was read at. */
	head: string;
	/** The log at `logIndex` when it is an ERC-20 Transfer (of any token); else null. */
	transfer: TransferOnChain | null;
	recipientMatches: boolean;
	amountMatches: boolean;
	/** null: the transfer is what the claim says. */
	mismatch: Mismatch | null;
	/** One line for an operator: what was found and, on a mismatch, what differs. */
	detail: string;
}

/** What a verifier read for a claim, before it is judged. */
export type Observation =
	| { found: false; head: bigint }
	| {
			found: true;
			head: bigint;
			success: boolean;
			blockNumber: bigint;
			blockHash: string;
			/** The log at the claim's index: null when there is none, `transfer: null` when it is no Transfer. */
			log: { transfer: Omit<TransferOnChain, "amount"> | null } | null;
	  };

/** The raw integer of an exact decimal amount, or null when it has more decimals than the token. */
function rawAmount(amount: string, decimals: number): bigint | null {
	const match = /^(\d+)(?:\.(\d+))?$/.exec(amount);
	if (!match) return null;
	const fraction = (match[2] ?? "").replace(/0+$/, "");
	if (fraction.length > decimals) return null;
	return BigInt(match[1]!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
}

/** An address in the form used to compare it: EVM lower case; TRON base58 as written. */
export function comparableAddress(family: ChainFamily, address: string): string {
	return family === "evm" ? address.trim().toLowerCase() : address.trim();
}

/** Judges one observation against its claim, for a token contract with `decimals`. */
export function judge(
	claim: TransferClaim,
	observed: Observation,
	token: { family: ChainFamily; address: string; decimals: number },
): ChainVerdict {
	const head = observed.head.toString();
	if (!observed.found) {
		return {
			found: false,
			success: null,
			blockNumber: null,
			blockHash: null,
			confirmations: null,
			head,
			transfer: null,
			recipientMatches: false,
			amountMatches: false,
			mismatch: "not_found",
			detail: `no transaction ${claim.txHash} on ${claim.chain} (head ${head})`,
		};
	}
	const base = {
		found: true,
		success: observed.success,
		blockNumber: observed.blockNumber.toString(),
		blockHash: observed.blockHash,
		confirmations: Number(observed.head - observed.blockNumber + 1n),
		head,
	};
	const raw = observed.log?.transfer ?? null;
	const transfer: TransferOnChain | null = raw
		? { ...raw, amount: formatUnits(BigInt(raw.value), token.decimals) }
		: null;
	const recipients = new Set(claim.recipients.map((r) => comparableAddress(token.family, r)));
	const recipientMatches = transfer !== null && recipients.has(comparableAddress(token.family, transfer.to));
	const expected = rawAmount(claim.amount, token.decimals);
	const amountMatches = transfer !== null && expected !== null && BigInt(transfer.value) === expected;
	const where = `in block ${base.blockNumber}`;
	let mismatch: Mismatch | null = null;
	let detail: string;
	if (!observed.success) {
		mismatch = "failed";
		detail = `transaction ${claim.txHash} failed (reverted) ${where}`;
	} else if (!observed.log) {
		mismatch = "not_a_transfer";
		detail = `transaction ${claim.txHash} has no log at index ${claim.logIndex}`;
	} else if (!transfer) {
		mismatch = "not_a_transfer";
		detail = `the log at index ${claim.logIndex} of ${claim.txHash} is not an ERC-20 Transfer`;
	} else if (
		comparableAddress(token.family, transfer.token) !== comparableAddress(token.family, token.address)
	) {
		mismatch = "other_token";
		detail = `the transfer at index ${claim.logIndex} is of token ${transfer.token}, not ${token.address}`;
	} else if (!recipientMatches) {
		mismatch = "other_recipient";
		detail = `the transfer goes to ${transfer.to}, not to ${claim.recipients.join(" or ") || "(no address given)"}`;
	} else if (!amountMatches) {
		mismatch = "other_amount";
		detail = `the transfer is of ${transfer.amount}, not ${claim.amount}`;
	} else {
		detail = `${transfer.amount} to ${transfer.to} ${where}, ${base.confirmations} confirmations`;
	}
	return { ...base, transfer, recipientMatches, amountMatches, mismatch, detail };
}
