/**
 * The entry point of on-chain verification: a batch of claims, any chains, checked with one
 * round of requests per chain (chains side by side), each claim answered in input order.
 *
 * How the consumer uses it (per queue batch, before settling):
 *
 * ```ts
 * const chainConfig = parseChainConfig(env);            // once per batch, with the other config
 * const checks = await verifyTransfers(chainConfig, claims);
 * // checks[i].status:
 * //   "trusted"     chain in sender mode: settle on the webhook, as without verification
 * //   "verified"    checks[i].verdict.mismatch === null: settle with the chain's
 * //                 confirmations and block hash; otherwise hold (reason "chain_mismatch")
 * //                 with the verdict, never credit
 * //   "unavailable" retry the message with backoff; checks[i].error says why
 * ```
 *
 * @module
 */
import type { Chain } from "../../../schema/queue-message";
import type { ChainVerificationConfig } from "./chain-config";
import { verifyEvmTransfers } from "./evm-verifier";
import { ChainRpcError } from "./rpc-error";
import { verifyTronTransfers } from "./tron-verifier";
import type { ChainVerdict, TransferClaim } from "./verdict";

type TransferCheck =
	/** The chain is in `sender` mode: nothing was asked of it. */
	| { status: "trusted" }
	/** The chain answered; `verdict.mismatch` says whether the claim holds. */
	| { status: "verified"; verdict: ChainVerdict }
	/** No endpoint of the chain answered usably; nothing is decided. */
	| { status: "unavailable"; error: ChainRpcError };

/**
 * Checks every claim against its chain. Never throws for trouble with a chain (that claim is
 * `unavailable`); throws only for a programming error.
 *
 * @example
 * ```ts
 * const [check] = await verifyTransfers(config, [
 *   { chain: "bep20", txHash, logIndex: 0, recipients: [depositAddress], amount: "25.5", blockNumber: "123" },
 * ]);
 * if (check.status === "verified" && check.verdict.mismatch === null) check.verdict.confirmations;
 * ```
 */
export async function verifyTransfers(
	config: ChainVerificationConfig,
	claims: readonly TransferClaim[],
): Promise<TransferCheck[]> {
	const results: TransferCheck[] = new Array(claims.length);
	const byChain = new Map<Chain, number[]>();
	claims.forEach((claim, i) => {
		const settings = config.chains[claim.chain];
		if (settings.mode === "sender") results[i] = { status: "trusted" };
		else byChain.set(claim.chain, [...(byChain.get(claim.chain) ?? []), i]);
	});
	await Promise.all(
		[...byChain].map(async ([chain, indexes]) => {
			const settings = config.chains[chain];
			if (settings.mode !== "chain") return;
			const verify = settings.family === "evm" ? verifyEvmTransfers : verifyTronTransfers;
			const chainClaims = indexes.map((i) => claims[i]!);
			try {
				const verdicts = await verify(settings, chainClaims, config.rpcTimeoutMs);
				indexes.forEach((i, k) => {
					results[i] = { status: "verified", verdict: verdicts[k]! };
				});
			} catch (error) {
				if (!(error instanceof ChainRpcError)) throw error;
				for (const i of indexes) results[i] = { status: "unavailable", error };
			}
		}),
	);
	return results;
}
