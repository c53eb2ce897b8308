import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { percentile, runOpenModel } from "../lib/open-model";

describe("percentile", () => {
	it("uses the nearest rank", () => {
		const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
		expect(percentile(values, 50)).toBe(5);
		expect(percentile(values, 90)).toBe(9);
		expect(percentile(values, 99)).toBe(10);
		expect(percentile(values, 100)).toBe(10);
		expect(percentile(values, 0)).toBe(1);
		expect(percentile([7], 99)).toBe(7);
		expect(percentile([], 50)).toBeNaN();
	});

	it("is not thrown off by float error in the rank", () => {
		const thousand = Array.from({ length: 1000 }, (_, i) => i + 1);
		expect(percentile(thousand, 99.9)).toBe(999);
		expect(percentile(thousand, 99.5)).toBe(995);
		expect(
			percentile(
				Array.from({ length: 3000 }, (_, i) => i + 1),
				99.9,
			),
		).toBe(2997);
	});
});

describe("runOpenModel", () => {
	// A real HTTP server on 127.0.0.1 whose answers take as long as the request asks.
	let server: Server;
	let base: string;
	beforeAll(async () => {
		server = createServer((req, res) => {
			const delay = Number(new URL(req.url ?? "/", "http://x").searchParams.get("delay") ?? 0);
			setTimeout(
				() =>
					res.writeHead(Number(new URL(req.url ?? "/", "http://x").searchParams.get("status") ?? 200)).end(),
				delay,
			);
		});
		await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
		base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

	it("starts requests at the given rate, not as fast as answers come back", async () => {
		// Answers take 200 ms; a closed model with one connection would need 20 × 200 ms = 4 s.
		const report = await runOpenModel((i) => fetch(`${base}/?delay=200&i=${i}`), { rate: 100, total: 20 });
		expect(report.results).toHaveLength(20);
		expect(report.failures).toBe(0);
		expect(report.durationMs).toBeGreaterThanOrEqual(190 + 200);
		expect(report.durationMs).toBeLessThan(2_000);
		expect(report.results.map((r) => r.startedAt)).toEqual(Array.from({ length: 20 }, (_, i) => i * 10));
		expect(report.p50).toBeGreaterThanOrEqual(195);
	});

	it("counts non-2xx answers, errors and timeouts as failures, and reports progress", async () => {
		const progress: number[] = [];
		const report = await runOpenModel(
			(i) => {
				if (i === 0) return fetch(`${base}/?status=503`);
				if (i === 1) return Promise.reject(new Error("connection refused"));
				if (i === 2) return fetch(`${base}/?delay=500`);
				return fetch(`${base}/`);
			},
			{ rate: 200, total: 10, timeoutMs: 100, onProgress: (done) => progress.push(done) },
		);
		expect(report.failures).toBe(3);
		expect(report.results[0]).toMatchObject({ status: 503 });
		expect(report.results[1]).toMatchObject({ status: 0, error: "connection refused" });
		expect(report.results[2]).toMatchObject({ status: 0, error: "no answer within 100 ms" });
		expect(progress.at(-1)).toBe(10);
	});

	it("drops arrivals beyond maxInFlight instead of queueing them in the client", async () => {
		const report = await runOpenModel(() => fetch(`${base}/?delay=300`), {
			rate: 200,
			total: 10,
			maxInFlight: 4,
		});
		expect(report.results.filter((r) => r.error?.startsWith("dropped")).length).toBe(6);
		expect(report.failures).toBe(6);
	});

	it("measures latency from the scheduled start, so a stalled client shows in the figures", async () => {
		// The first send blocks the event loop for 150 ms: requests due meanwhile start late.
		const report = await runOpenModel(
			(i) => {
				if (i === 0) {
					const until = performance.now() + 150;
					while (performance.now() < until);
				}
				return Promise.resolve({ status: 200 });
			},
			{ rate: 100, total: 5 },
		);
		// Request 1 was due at 10 ms and answered after 150 ms: about 140 ms of latency.
		expect(report.results[1]!.latencyMs).toBeGreaterThan(100);
	});

	it("refuses nonsense options", async () => {
		await expect(runOpenModel(async () => ({ status: 200 }), { rate: 0, total: 1 })).rejects.toThrow(
			/rate > 0/,
		);
		await expect(runOpenModel(async () => ({ status: 200 }), { rate: 1, total: 1.5 })).rejects.toThrow(
			/whole total/,
		);
	});
});
