/** The fault proxy: each fault does what it says, choices replay from a seed, bad settings are refused. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FaultProxy, startFaultProxy } from "../local/fault-proxy";

let target: Server;
let targetUrl: string;
let received: string[] = [];
let proxy: FaultProxy;

beforeAll(async () => {
	target = createServer((req, res) => {
		let body = "";
		req.on("data", (c) => {
			body += c;
		});
		req.on("end", () => {
			received.push(`${req.headers["neon-connection-string"]} ${body}`);
			res
				.writeHead(200, { "content-type": "application/json" })
				.end(JSON.stringify({ rows: [], echo: body }));
		});
	});
	await new Promise<void>((r) => target.listen(0, "127.0.0.1", r));
	targetUrl = `http://127.0.0.1:${(target.address() as AddressInfo).port}/sql`;
	proxy = await startFaultProxy(targetUrl);
});
afterAll(async () => {
	await proxy.close();
	await new Promise((r) => target.close(r));
});
beforeEach(() => {
	received = [];
	proxy.setFaults({ errorRate: 0, timeoutRate: 0, dropAfterCommitRate: 0 });
});

const post = (body: string, signal?: AbortSignal) =>
	fetch(proxy.endpoint, {
		method: "POST",
		headers: { "neon-connection-string": "postgres://u@h/db", "content-type": "application/json" },
		body,
		signal,
	});

async function setOverHttp(settings: unknown) {
	return fetch(proxy.control, { method: "POST", body: JSON.stringify(settings) });
}

describe("fault proxy", () => {
	it("forwards requests with Neon's headers when no fault is set", async () => {
		const res = await post('{"query":"SELECT 1"}');
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ rows: [], echo: '{"query":"SELECT 1"}' });
		expect(received).toEqual(['postgres://u@h/db {"query":"SELECT 1"}']);
	});

	it("answers errors without forwarding", async () => {
		expect((await setOverHttp({ errorRate: 1, seed: 5 })).status).toBe(200);
		const statuses = await Promise.all(Array.from({ length: 20 }, () => post("{}").then((r) => r.status)));
		expect(new Set(statuses)).toEqual(new Set([400, 500, 503]));
		expect(received).toEqual([]);
		expect(proxy.stats()).toMatchObject({ requests: 20, errors: 20, forwarded: 0 });
	});

	it("drops the connection after the target answered", async () => {
		proxy.setFaults({ errorRate: 0, timeoutRate: 0, dropAfterCommitRate: 1 });
		await expect(post('{"query":"COMMIT"}')).rejects.toThrow();
		expect(received).toHaveLength(1);
		expect(proxy.stats()).toMatchObject({ dropsAfterCommit: 1, forwarded: 1 });
	});

	it("holds a request past the client's time limit, then forwards it late", async () => {
		proxy.setFaults({ errorRate: 0, timeoutRate: 1, dropAfterCommitRate: 0, hangMs: 150 });
		await expect(post("{}", AbortSignal.timeout(50))).rejects.toThrow();
		expect(received).toEqual([]);
		await expect.poll(() => received.length, { timeout: 2_000 }).toBe(1);
		await expect.poll(() => proxy.stats().inFlight, { timeout: 2_000 }).toBe(0);
	});

	it("picks the same faults again from the same seed", async () => {
		const run = async () => {
			proxy.setFaults({ errorRate: 0.5, timeoutRate: 0, dropAfterCommitRate: 0, seed: 42 });
			const outcomes: number[] = [];
			for (let i = 0; i < 12; i++) outcomes.push((await post("{}")).status);
			return outcomes;
		};
		const first = await run();
		expect(first).toContain(200);
		expect(first.some((s) => s !== 200)).toBe(true);
		expect(await run()).toEqual(first);
	});

	it("spares requests whose body lacks any of the texts faults are scoped to", async () => {
		expect((await setOverHttp({ errorRate: 1, onlyIfBodyIncludes: ["INSERT", "abc"] })).status).toBe(200);
		const statuses = [
			(await post('{"query":"INSERT abc"}')).status,
			(await post('{"query":"INSERT xyz"}')).status,
			(await post('{"query":"SELECT abc"}')).status,
		];
		expect(statuses[0]).not.toBe(200);
		expect(statuses.slice(1)).toEqual([200, 200]);
		expect(received).toEqual([
			'postgres://u@h/db {"query":"INSERT xyz"}',
			'postgres://u@h/db {"query":"SELECT abc"}',
		]);
	});

	it("refuses settings it cannot honour, saying why", async () => {
		const res = await setOverHttp({ errorRate: 0.7, dropAfterCommitRate: 0.7 });
		expect(res.status).toBe(400);
		expect(await res.json()).toEqual({ message: "bad fault settings: the rates add up to more than 1" });
		expect((await setOverHttp({ errorRate: "often" })).status).toBe(400);
		expect((await setOverHttp({ errorRate: 1, onlyIfBodyIncludes: "tx" })).status).toBe(400);
		const current = (await (await fetch(proxy.control)).json()) as { faults: { errorRate: number } };
		expect(current.faults.errorRate).toBe(0);
	});
});
