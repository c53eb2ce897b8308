import { exports } from "cloudflare:workers";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import { describe, expect, it } from "vitest";
import { ApiError, handleError, STATUS_OF } from "../../shared/http/errors";
import { isJsonMediaType } from "../../shared/http/request-input";
import { BASE, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import { call, expectError, freshIp, json } from "./support/accounts";

function webhook(init: RequestInit) {
	return exports.default.fetch(new Request(WEBHOOK_URL, init));
}

describe("one error shape for every 4xx", () => {
	it("lists a webhook's and an account route's failing fields alike, as {path, message}", async () => {
		const hook = await expectError(
			await webhook(signedInit(watcherDeposit({ currency: "EUR" }))),
			422,
			"validation_failed",
		);
		const account = await expectError(
			await call("/api/v1/register", { body: { username: "a" }, ip: freshIp() }),
			422,
			"validation_failed",
		);
		for (const error of [hook, account]) {
			expect(Object.keys(error).sort()).toEqual(["code", "fields", "message"]);
			expect(error.fields).toEqual([{ path: expect.any(String), message: expect.any(String) }]);
		}
		expect(hook.fields).toEqual([{ path: "currency", message: expect.any(String) }]);
		expect(account.fields).toEqual([{ path: "username", message: expect.any(String) }]);
	});

	it("carries Cloudflare's cf-ray as the request id, in the body and the Request-Id header", async () => {
		const res = await exports.default.fetch(
			new Request(`${BASE}/api/v1/nowhere`, { headers: { "cf-ray": "8f3a9c1e2b4d5e6f-AMS" } }),
		);
		expect(res.status).toBe(404);
		expect(res.headers.get("request-id")).toBe("8f3a9c1e2b4d5e6f-AMS");
		expect(await json(res)).toEqual({
			ok: false,
			error: {
				code: "not_found",
				message: "no route for GET /api/v1/nowhere",
				request_id: "8f3a9c1e2b4d5e6f-AMS",
			},
		});
	});

	it("generates a request id per request where there is no cf-ray", async () => {
		const ids = new Set<string>();
		for (let i = 0; i < 3; i++) {
			const res = await exports.default.fetch(new Request(`${BASE}/api/v1/nowhere`));
			const { error } = await json(res);
			expect(error.request_id).toMatch(/^[0-9a-f-]{36}$/);
			expect(res.headers.get("request-id")).toBe(error.request_id);
			ids.add(error.request_id);
		}
		expect(ids.size).toBe(3);
	});

	it("answers each code with its one status", () => {
		for (const [code, status] of Object.entries(STATUS_OF)) {
			expect(new ApiError(code as keyof typeof STATUS_OF, "x").status).toBe(status);
		}
		expect(STATUS_OF).toMatchObject({
			validation_failed: 422,
			signature_invalid: 401,
			address_pool_empty: 503,
		});
	});

	it("keeps the status of Hono's own exceptions, in the same envelope", async () => {
		const app = new Hono()
			.get("/teapot", () => {
				throw new HTTPException(401, { message: "no entry" });
			})
			.get("/boom", () => {
				throw new Error("secret detail");
			});
		app.onError(handleError);
		const refused = await app.request("/teapot");
		expect(refused.status).toBe(401);
		expect(await json(refused)).toEqual({
			ok: false,
			error: { code: "unauthorized", message: "no entry", request_id: refused.headers.get("request-id") },
		});
		const failed = await app.request("/boom");
		expect(failed.status).toBe(500);
		expect((await json(failed)).error).toMatchObject({ code: "internal_error", message: "internal error" });
	});
});

describe("one media-type rule for every JSON route", () => {
	it("reads application/json and application/*+json, in any case, with parameters", () => {
		for (const type of [
			"application/json",
			"application/json; charset=utf-8",
			"Application/JSON;charset=UTF-8",
			" application/json ",
			"application/cloudevents+json",
			"application/vnd.api+json; charset=utf-8",
		]) {
			expect(isJsonMediaType(type), type).toBe(true);
		}
		for (const type of [
			undefined,
			"",
			"text/json",
			"text/plain",
			"application/jsonx",
			"application/json-seq",
			"application/+json",
			"application/x-www-form-urlencoded",
			"multipart/form-data; boundary=json",
		]) {
			expect(isJsonMediaType(type), String(type)).toBe(false);
		}
	});

	it("applies the same rule to the webhooks and the account routes", async () => {
		const suffixed = "application/vnd.api+json; charset=utf-8";
		expect(
			(await webhook(signedInit(watcherDeposit(), { headers: { "content-type": suffixed } }))).status,
		).toBe(202);
		// A suffixed JSON type is read as JSON: the login is checked (and fails), not refused as 415.
		const login = await call("/api/v1/login", {
			body: { username: "nobody_here", password: "not-the-password" },
			headers: { "content-type": suffixed },
			ip: freshIp(),
		});
		await expectError(login, 401, "unauthorized");
		for (const type of ["text/json", "application/jsonx"]) {
			await expectError(
				await webhook(signedInit(watcherDeposit(), { headers: { "content-type": type } })),
				415,
				"unsupported_media_type",
			);
			await expectError(
				await call("/api/v1/login", {
					body: { username: "nobody_here", password: "not-the-password" },
					headers: { "content-type": type },
					ip: freshIp(),
				}),
				415,
				"unsupported_media_type",
			);
		}
	});
});
