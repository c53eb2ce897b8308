/**
 * A counting, fault-injecting HTTP proxy in front of a chain endpoint, for the verifier's
 * tests. Each test talks to its own path (`<origin>/<tag>`), which is forwarded to the target's
 * root, so requests are counted per test even though one proxy serves the run.
 *
 * Control, over HTTP on the same port (tests run inside workerd and cannot reach this process
 * otherwise): `POST /__control/<tag>` with `{"fault": …}` sets that tag's fault, `GET` returns
 * `{requests: [{methods}]}` (the JSON-RPC methods of each request, batch order). Faults:
 * `refuse` (the connection is dropped), `http503`, `hang` (no answer until the client gives up),
 * `rpc_error` (every call answered with a JSON-RPC error), `other_block_hash` (blocks come back
 * with another hash than the receipts name, as from nodes that disagree), `null` for none.
 *
 * @module
 */
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { RpcFault } from "./support/rpc-faults";

interface RpcProxy {
	origin: string;
	close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks).toString("utf8");
}

function methodsOf(body: string): string[] {
	try {
		const parsed = JSON.parse(body) as { method?: string } | { method?: string }[];
		return (Array.isArray(parsed) ? parsed : [parsed]).map((c) => c.method ?? "?");
	} catch {
		return ["(not JSON)"];
	}
}

type Call = { id?: unknown; method?: string };
type Answer = { id?: unknown; result?: { hash?: string } | null };

/** Starts the proxy on a free port of 127.0.0.1, forwarding to `target`. */
export async function startRpcProxy(target: string): Promise<RpcProxy> {
	const faults = new Map<string, RpcFault>();
	const seen = new Map<string, { methods: string[] }[]>();
	const hanging = new Set<() => void>();
	const server = createServer(async (req, res) => {
		const url = new URL(req.url ?? "/", "http://proxy");
		const body = await readBody(req);
		const control = /^\/__control\/(.+)$/.exec(url.pathname);
		if (control) {
			const tag = control[1]!;
			if (req.method === "POST") {
				const { fault } = JSON.parse(body || "{}") as { fault?: RpcFault | null };
				if (fault) faults.set(tag, fault);
				else faults.delete(tag);
			}
			res.writeHead(200, { "content-type": "application/json" });
			res.end(JSON.stringify({ fault: faults.get(tag) ?? null, requests: seen.get(tag) ?? [] }));
			return;
		}
		const tag = url.pathname.replace(/^\/+/, "") || "(root)";
		seen.set(tag, [...(seen.get(tag) ?? []), { methods: methodsOf(body) }]);
		const fault = faults.get(tag);
		if (fault === "refuse") {
			req.socket.destroy();
			return;
		}
		if (fault === "hang") {
			// Answered only when the proxy closes; the client's time limit ends it first.
			hanging.add(() => res.destroy());
			return;
		}
		if (fault === "http503") {
			res.writeHead(503, { "content-type": "text/plain" });
			res.end("upstream unavailable");
			return;
		}
		if (fault === "rpc_error") {
			const calls = JSON.parse(body) as Call | Call[];
			const answer = (c: Call) => ({
				jsonrpc: "2.0",
				id: c.id,
				error: { code: -32005, message: "rate limited" },
			});
			res.writeHead(200, { "content-type": "application/json" });
			res.end(JSON.stringify(Array.isArray(calls) ? calls.map(answer) : answer(calls)));
			return;
		}
		const upstream = await fetch(target, {
			method: "POST",
			headers: { "content-type": "application/json" },
			body,
		}).catch(() => null);
		if (!upstream) {
			res.writeHead(502);
			res.end();
			return;
		}
		let text = await upstream.text();
		if (fault === "other_block_hash") {
			const calls = JSON.parse(body) as Call[];
			const answers = JSON.parse(text) as Answer[];
			for (const a of answers) {
				const call = calls.find((c) => c.id === a.id);
				if (call?.method === "eth_getBlockByNumber" && a.result?.hash) a.result.hash = `0x${"ee".repeat(32)}`;
			}
			text = JSON.stringify(answers);
		}
		res.writeHead(upstream.status, { "content-type": "application/json" });
		res.end(text);
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		origin: `http://127.0.0.1:${port}`,
		close: () =>
			new Promise((resolve) => {
				for (const end of hanging) end();
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}
