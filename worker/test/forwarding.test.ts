/**
 * What the edge does not serve it forwards, unchanged, to the API Worker through the `API`
 * service binding (src/forward.ts). Through the front door with the real API Worker beside the
 * edge (as deployed: one host), and through the edge's app with a stand-in on the far side of the
 * binding where a test must see exactly what arrived there, or must make the binding fail (that
 * failure is Cloudflare's plumbing, which cannot be broken locally).
 */
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { expectError, freshIp, json } from "../../test/support/http";
import { BASE } from "../../test/support/webhooks";
import { app } from "../src/app";

/** A body sent as a stream, in chunks, without a Content-Length. */
function streamOf(text: string, chunk = 1000): ReadableStream<Uint8Array> {
	const bytes = new TextEncoder().encode(text);
	let at = 0;
	return new ReadableStream({
		pull(controller) {
			if (at >= bytes.length) return controller.close();
			controller.enqueue(bytes.slice(at, at + chunk));
			at += chunk;
		},
	});
}

describe("the edge forwards to the API Worker", () => {
	it("answers an API route through the edge with the API's status, body and headers", async () => {
		const username = `fwd_${Date.now().toString(36)}`;
		// The longest password the API takes, with text outside ASCII, streamed in small chunks:
		// the login below only succeeds if the registration's body arrived whole.
		const password = `${"é".repeat(100)}${"x".repeat(156)}`;
		const registered = await exports.default.fetch(
			new Request(`${BASE}/api/v1/register`, {
				method: "POST",
				headers: { "content-type": "application/json", "cf-connecting-ip": freshIp() },
				body: streamOf(JSON.stringify({ username, password }), 7),
				// @ts-expect-error: workerd's RequestInit takes `duplex` for a streamed body
				duplex: "half",
			}),
		);
		expect(registered.status).toBe(201);
		expect(registered.headers.get("content-type")).toMatch(/^application\/json/);
		expect(await json(registered)).toMatchObject({ username, has_password: true });
		const login = await exports.default.fetch(
			new Request(`${BASE}/api/v1/login`, {
				method: "POST",
				headers: { "content-type": "application/json", "cf-connecting-ip": freshIp() },
				body: JSON.stringify({ username, password }),
			}),
		);
		expect(login.status).toBe(200);
		expect(await json(login)).toMatchObject({ token_type: "Bearer", role: "user" });
	});

	it("leaves the body limit of forwarded requests to the API Worker (413 in the one shape)", async () => {
		const res = await exports.default.fetch(
			new Request(`${BASE}/api/v1/nowhere`, {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ pad: "x".repeat(70 * 1024) }),
			}),
		);
		const error = await expectError(res, 413, "payload_too_large");
		expect(error.max_bytes).toBe(64 * 1024);
	});

	it("passes method, URL, headers and the unread body stream on, and the answer back as it is", async () => {
		let arrived:
			| { method: string; url: string; headers: Headers; bodyUsed: boolean; body: string }
			| undefined;
		const api = {
			async fetch(request: Request) {
				const bodyUsed = request.bodyUsed;
				arrived = {
					method: request.method,
					url: request.url,
					headers: request.headers,
					bodyUsed,
					body: await request.text(),
				};
				return new Response("teapot", {
					status: 418,
					headers: { "x-from": "api", "set-cookie": "__Host-session=abc; Path=/; Secure; HttpOnly" },
				});
			},
		} as unknown as Fetcher;
		const body = JSON.stringify({ note: "ünïcödé", pad: "y".repeat(200 * 1024) });
		const res = await app.request(
			`${BASE}/console/settlement/pause?x=1`,
			{
				method: "PATCH",
				headers: { "cf-connecting-ip": "203.0.113.9", "cf-ray": "8f3a9c1e2b4d5e6f-AMS", "x-custom": "kept" },
				body: streamOf(body),
				// @ts-expect-error: workerd's RequestInit takes `duplex` for a streamed body
				duplex: "half",
			},
			{ ...env, API: api },
		);
		expect(res.status).toBe(418);
		expect(await res.text()).toBe("teapot");
		expect(res.headers.get("x-from")).toBe("api");
		expect(res.headers.getSetCookie()).toEqual(["__Host-session=abc; Path=/; Secure; HttpOnly"]);
		expect(arrived).toMatchObject({
			method: "PATCH",
			url: `${BASE}/console/settlement/pause?x=1`,
			bodyUsed: false,
		});
		expect(arrived!.headers.get("cf-connecting-ip")).toBe("203.0.113.9");
		expect(arrived!.headers.get("cf-ray")).toBe("8f3a9c1e2b4d5e6f-AMS");
		expect(arrived!.headers.get("x-custom")).toBe("kept");
		// Larger than any body limit of the edge's: forwarded bodies are not the edge's to limit.
		expect(arrived!.body).toBe(body);
	});

	it("answers 503 with Retry-After in the one error shape when the API Worker cannot be reached", async () => {
		const api = {
			fetch: async () => {
				throw new Error("service binding failed");
			},
		} as unknown as Fetcher;
		for (const path of ["/api/v1/wallet", "/console", "/api/v1/health?deep=1"]) {
			const res = await app.request(
				`${BASE}${path}`,
				{ headers: { "cf-ray": "1a2b3c-LHR" } },
				{ ...env, API: api },
			);
			expect(res.headers.get("retry-after")).toBe("5");
			expect(res.headers.get("request-id")).toBe("1a2b3c-LHR");
			const error = await expectError(res, 503, "service_unavailable");
			expect(error.message).not.toMatch(/service binding failed/);
		}
	});

	it("serves its own routes, which the OpenAPI document the API forwards lists", async () => {
		const own = app.routes
			.filter((r) => r.method !== "ALL" && r.path.startsWith("/api/v1/"))
			.map((r) => [r.method.toLowerCase(), r.path.replace(/\/$/, "").replace(/:(\w+)/g, "{$1}")] as const);
		expect(own.map(([method, path]) => `${method} ${path}`).sort()).toEqual([
			"get /api/v1/health",
			"post /api/v1/webhooks/{name}",
		]);
		const document = await json(await exports.default.fetch(`${BASE}/api/v1/openapi.json`));
		for (const [method, path] of own)
			expect(document.paths[path]?.[method], `${method} ${path}`).toBeDefined();
	});
});
