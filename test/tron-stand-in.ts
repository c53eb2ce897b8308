/**
 * A stand-in for a TRON node's HTTP API: no TRON node runs on developer machines or in CI, so
 * the TRC20 verifier is tested against recorded answers (queue-consumer/test/fixtures/
 * tron-http-api.json, written from TRON's API documentation), served over real HTTP.
 *
 * The first path segment picks a scenario: `recorded` answers from the recording; `down`
 * answers 503; `error` answers as java-tron does when a call fails (HTTP 200, `{"Error": …}`);
 * `behind` reports a head below the recorded transactions' blocks (an inconsistent node).
 * `GET /__requests/<scenario>` returns the paths requested so far.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";

const FIXTURE_PATH = "queue-consumer/test/fixtures/tron-http-api.json";

interface Header {
	blockID: string;
	block_header: { raw_data: { number: number } };
}
interface Recording {
	head: Header;
	blocks: Record<string, Header>;
	decimals: unknown;
	transactions: Record<string, unknown>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	const text = Buffer.concat(chunks).toString("utf8");
	return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startTronStandIn(): Promise<{ origin: string; close(): Promise<void> }> {
	const recording = JSON.parse(readFileSync(FIXTURE_PATH, "utf8")) as Recording;
	const requests = new Map<string, string[]>();
	const server = createServer(async (req, res) => {
		const url = new URL(req.url ?? "/", "http://tron");
		const reply = (status: number, body: unknown) => {
			res.writeHead(status, { "content-type": "application/json" });
			res.end(JSON.stringify(body));
		};
		const asked = /^\/__requests\/([^/]+)$/.exec(url.pathname);
		if (asked) return reply(200, requests.get(asked[1]!) ?? []);
		const [, scenario = "", ...rest] = url.pathname.split("/");
		const path = `/${rest.join("/")}`;
		requests.set(scenario, [...(requests.get(scenario) ?? []), path]);
		const body = await readJson(req);
		if (scenario === "down") return reply(503, { message: "service unavailable" });
		if (scenario === "error") {
			return reply(200, { Error: "class org.tron.core.exceptions.BadItemException : request rate exceeded" });
		}
		switch (path) {
			case "/wallet/getblock": {
				if (body.id_or_num === undefined) {
					if (scenario === "behind") {
						const number =
							Math.min(...Object.values(recording.blocks).map((b) => b.block_header.raw_data.number)) - 1;
						return reply(200, {
							...recording.head,
							blockID: number.toString(16).padStart(16, "0") + recording.head.blockID.slice(16),
							block_header: { raw_data: { ...recording.head.block_header.raw_data, number } },
						});
					}
					return reply(200, recording.head);
				}
				return reply(200, recording.blocks[String(body.id_or_num)] ?? {});
			}
			case "/wallet/gettransactioninfobyid":
				return reply(200, recording.transactions[String(body.value)] ?? {});
			case "/wallet/triggerconstantcontract":
				return reply(200, recording.decimals);
			default:
				return reply(404, { Error: `no such API: ${path}` });
		}
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return {
		origin: `http://127.0.0.1:${port}`,
		close: () => new Promise((resolve) => server.close(() => resolve())),
	};
}
