import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("GET /api/v1/health", () => {
	it("answers 200 without touching the database", async () => {
		const res = await exports.default.fetch("https://edge.test/api/v1/health");
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ status: "ok" });
	});

	it("checks the database when asked for a deep check", async () => {
		const res = await exports.default.fetch("https://edge.test/api/v1/health?deep=1");
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ status: "ok", database: "ok" });
	});
});
