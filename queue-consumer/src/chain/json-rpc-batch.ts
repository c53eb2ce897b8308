/**
 * One batched JSON-RPC request to one endpoint, through viem's HTTP RPC client (time limit,
 * response size cap, batch framing). Every answer must be there and be a result: a missing
 * id, a JSON-RPC error or a malformed reply makes the whole batch fail as `RpcTrouble`, so a
 * caller never mixes trusted and untrusted parts of one answer.
 *
 * @module
 */
import { HttpRequestError, TimeoutError } from "viem";
import { getHttpRpcClient } from "viem/utils";
import type { RpcEndpoint } from "./chain-config";
import { RpcTrouble } from "./rpc-error";

export interface RpcCall {
	method: string;
	params: unknown[];
}

interface RpcAnswer {
	id?: unknown;
	result?: unknown;
	error?: { code?: number; message?: string };
}

function describe(error: unknown, timeoutMs: number): string {
	if (error instanceof TimeoutError) return `no answer within ${timeoutMs} ms`;
	if (error instanceof HttpRequestError) return `HTTP ${error.status ?? "error"}`;
	const e = error as { shortMessage?: string; message?: string; cause?: { message?: string } };
	const text = e.cause?.message
		? `${e.shortMessage ?? e.message}: ${e.cause.message}`
		: (e.shortMessage ?? e.message);
	return (text ?? String(error)).split("\n")[0]!.slice(0, 200);
}

/**
 * Sends `calls` as one JSON-RPC batch and returns their results in the same order.
 *
 * @throws {RpcTrouble} when the endpoint cannot be reached or any call did not get a result.
 */
export async function jsonRpcBatch(
	endpoint: RpcEndpoint,
	calls: RpcCall[],
	timeoutMs: number,
): Promise<unknown[]> {
	const client = getHttpRpcClient(endpoint.url, {
		timeout: timeoutMs,
		fetchOptions: { headers: endpoint.headers },
	});
	let answers: unknown;
	try {
		answers = await client.request({
			body: calls.map((c, id) => ({ id, method: c.method, params: c.params })),
		});
	} catch (error) {
		throw new RpcTrouble("unavailable", describe(error, timeoutMs));
	}
	if (!Array.isArray(answers))
		throw new RpcTrouble("unavailable", "the endpoint did not answer the batch with a list");
	const byId = new Map<number, RpcAnswer>();
	for (const answer of answers as RpcAnswer[]) {
		if (typeof answer?.id === "number") byId.set(answer.id, answer);
	}
	return calls.map((call, id) => {
		const answer = byId.get(id);
		if (!answer) throw new RpcTrouble("unavailable", `no answer to ${call.method} in the batch`);
		if (answer.error) {
			throw new RpcTrouble(
				"unavailable",
				`${call.method} failed: ${answer.error.message ?? "JSON-RPC error"} (code ${answer.error.code ?? "?"})`,
			);
		}
		if (!("result" in answer))
			throw new RpcTrouble("unavailable", `${call.method} answered without a result`);
		return answer.result;
	});
}
