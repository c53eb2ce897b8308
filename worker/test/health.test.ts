import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../src/app";

const HEALTH = "https://edge.test/api/v1/health";

/** An API Worker that cannot be reached: the fast check must not need it (nor the database behind it). */
const apiDown = {
	API: {
		fetch: async () => {
			throw new Error("no such service");
		},
	} as unknown as Fetcher,
};

describe("GET /api/v1/health (the edge's own, fast check)", () => {
	it("answers 200 without touching the database", async () => {
		// No API Worker and so no database behind the edge: the fast check must not notice.
		const res = await app.request(HEALTH, {}, { ...env, ...apiDown });
		expect(res.status).toBe(200);
		expect(await res.json()).toEqual({ status: "ok", version: env.CF_VERSION_METADATA.id });
		expect(res.headers.get("cache-control")).toBe("no-store");
	});

	it("treats deep=0 and deep=false as the fast check", async () => {
		for (const flag of ["0", "false"]) {
			const res = await app.request(`${HEALTH}?deep=${flag}`, {}, { ...env, ...apiDown });
			expect(res.status).toBe(200);
		}
	});

	it("forwards a deep check to the API Worker (api/test/health.test.ts checks its answers)", async () => {
		const asked: string[] = [];
		const api = {
			fetch: async (request: Request) => {
				asked.push(request.url);
				return Response.json({ status: "ok", database: "ok" });
			},
		} as unknown as Fetcher;
		for (const flag of ["1", "true", ""]) {
			const url = `${HEALTH}?deep${flag ? `=${flag}` : ""}`;
			const res = await app.request(url, {}, { ...env, API: api });
			expect(await res.json()).toEqual({ status: "ok", database: "ok" });
			expect(asked.at(-1)).toBe(url);
		}
		expect(asked).toHaveLength(3);
	});
});
