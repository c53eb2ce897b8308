/**
 * The part of the local USDT-like token's ABI that goes beyond ERC-20: `transferMany`, one
 * transaction with a Transfer log per recipient (LocalUSDT.sol), as a typed constant for viem.
 * Plain data, so the consumer's tests inside workerd use it as well as the Node benchmarks.
 *
 * @module
 */
export const TRANSFER_MANY_ABI = [
	{
		type: "function",
		name: "transferMany",
		stateMutability: "nonpayable",
		inputs: [
			{ name: "to", type: "address[]" },
			{ name: "values", type: "uint256[]" },
		],
		outputs: [{ type: "bool" }],
	},
	{
		type: "event",
		name: "Transfer",
		inputs: [
			{ name: "from", type: "address", indexed: true },
			{ name: "to", type: "address", indexed: true },
			{ name: "value", type: "uint256", indexed: false },
		],
	},
] as const;
