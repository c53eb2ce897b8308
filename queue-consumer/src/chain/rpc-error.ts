/**
 * Trouble reaching the truth: an endpoint down, slow, refusing, or answering in a way that
 * cannot be trusted. Never a verdict: the deposit waits and is checked again.
 *
 * @module
 */
import type { Chain } from "../../../schema/queue-message";
import type { RpcEndpoint } from "./chain-config";

type RpcTroubleKind =
	/** Unreachable, timed out, HTTP error, not JSON, a JSON-RPC error. */
	| "unavailable"
	/** Answers that contradict each other or the chain's rules (a receipt above the head, a block hash that differs). */
	| "inconsistent"
	/** The token contract does not answer as configured (no contract there, other decimals). */
	| "misconfigured";

/** One endpoint's failure. */
export class RpcTrouble extends Error {
	override readonly name = "RpcTrouble";
	constructor(
		readonly kind: RpcTroubleKind,
		message: string,
	) {
		super(message);
	}
}

/** Where an endpoint is, without what may be a key in its path or query. */
function endpointLabel(url: string): string {
	try {
		const u = new URL(url);
		return u.pathname === "/" || u.pathname === "" ? u.origin : `${u.origin}/…`;
	} catch {
		return "(unparsable URL)";
	}
}

/**
 * Every endpoint of a chain failed. Retryable: the caller keeps the deposit (retry with
 * backoff) and counts it in its metrics.
 */
export class ChainRpcError extends Error {
	override readonly name = "ChainRpcError";
	readonly retryable = true;
	constructor(
		readonly chain: Chain,
		/** Each endpoint tried, in order, with what went wrong. */
		readonly attempts: { endpoint: string; kind: RpcTroubleKind; message: string }[],
	) {
		super(
			`${chain}: could not verify on chain, every endpoint failed (${attempts
				.map((a) => `${a.endpoint}: ${a.message}`)
				.join("; ")}). Nothing was decided; check the endpoints in CHAIN_RPC_URLS.${chain} and retry.`,
		);
	}

	/** The worst kind seen: a misconfiguration outranks inconsistency, which outranks an outage. */
	get kind(): RpcTroubleKind {
		const kinds = this.attempts.map((a) => a.kind);
		return kinds.includes("misconfigured")
			? "misconfigured"
			: kinds.includes("inconsistent")
				? "inconsistent"
				: "unavailable";
	}
}

/**
 * Asks `ask` of each of a chain's endpoints in order and returns the first usable answer. An
 * endpoint's {@link RpcTrouble} moves on to the next one; anything else is thrown as it is.
 *
 * @throws {ChainRpcError} when no endpoint gave a usable answer (retry later; nothing is decided).
 */
export async function firstAnswer<T>(
	chain: Chain,
	endpoints: readonly RpcEndpoint[],
	ask: (endpoint: RpcEndpoint) => Promise<T>,
): Promise<T> {
	const attempts: ChainRpcError["attempts"] = [];
	for (const endpoint of endpoints) {
		try {
			return await ask(endpoint);
		} catch (error) {
			if (!(error instanceof RpcTrouble)) throw error;
			attempts.push({ endpoint: endpointLabel(endpoint.url), kind: error.kind, message: error.message });
		}
	}
	throw new ChainRpcError(chain, attempts);
}
