/**
 * Reads a log as an ERC-20 `Transfer(address indexed from, address indexed to, uint256 value)`
 * with viem's ABI decoder; the same for EVM receipts and TRON's transaction logs (TRC20 uses
 * the same event).
 *
 * @module
 */
import { decodeEventLog, type Hex, toEventSelector } from "viem";

/** The one event read (viem's whole `erc20Abi` would add 6 KiB to the Worker for nothing). */
const TRANSFER_EVENT = [
	{
		type: "event",
		name: "Transfer",
		inputs: [
			{ indexed: true, name: "from", type: "address" },
			{ indexed: true, name: "to", type: "address" },
			{ indexed: false, name: "value", type: "uint256" },
		],
	},
] as const;

const TRANSFER_TOPIC = toEventSelector(TRANSFER_EVENT[0]);

/**
 * The transfer a log records, or null when it is none: another event, or a `Transfer` of
 * another shape (ERC-721's has its token id indexed and no data; strict decoding refuses it).
 */
export function decodeTransferLog(
	topics: readonly Hex[],
	data: Hex,
): { from: Hex; to: Hex; value: bigint } | null {
	if (topics[0]?.toLowerCase() !== TRANSFER_TOPIC) return null;
	try {
		const { args } = decodeEventLog({
			abi: TRANSFER_EVENT,
			eventName: "Transfer",
			topics: topics as [Hex, ...Hex[]],
			data,
			strict: true,
		});
		return args ? { from: args.from, to: args.to, value: args.value } : null;
	} catch {
		return null;
	}
}
