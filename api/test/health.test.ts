import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { freshIp } from "../../test/support/http";
import type { ErrorBody } from "../../test/support/webhooks";
import { app } from "../src/app";

/** A request from an address of its own, so the deep check's per-address limit is this test's. */
const from = (ip = freshIp()) => ({ headers: { "cf-connecting-ip": ip } });

const HEALTH = "https://edge.test/api/v1/health";

/**
 * The deep health check, the API Worker's: through the front door (the edge forwards it) where
 * the test needs the real stack, through the API's app where it needs a broken database.
 */
describe("GET /api/v1/health?deep=1", () => {
	it("checks the database when asked for a deep check", async () => {
		for (const flag of ["1", "true", ""]) {
			const res = await exports.default.fetch(`${HEALTH}?deep${flag ? `=${flag}` : ""}`, from());
			expect(res.status).toBe(200);
			expect(await res.json()).toMatchObject({
				status: "ok",
				database: "ok",
				database_ms: expect.any(Number),
			});
		}
	});

	it("answers 503 with Retry-After when the database is down, without leaking its address", async () => {
		// Nothing listens on port 9 (discard) here: the driver's request is refused at once.
		const down = { ...env, NEON_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" };
		const res = await app.request(`${HEALTH}?deep=1`, from(), down);
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
		const body = (await res.json()) as ErrorBody;
		expect(body).toMatchObject({
			ok: false,
			error: { code: "service_unavailable", database: "unavailable" },
		});
		expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|postgres:/);
	});

	it("answers 503 when the database is not configured", async () => {
		const res = await app.request(`${HEALTH}?deep=1`, from(), { ...env, DATABASE_URL: "" });
		expect(res.status).toBe(503);
		expect(res.headers.get("retry-after")).toBe("5");
	});

	it("limits deep checks per client address (429 with Retry-After), the fast check not at all", async () => {
		const ip = freshIp();
		for (let i = 0; i < 10; i++) {
			expect((await exports.default.fetch(`${HEALTH}?deep=1`, from(ip))).status).toBe(200);
		}
		const limited = await exports.default.fetch(`${HEALTH}?deep=1`, from(ip));
		expect(limited.status).toBe(429);
		expect(limited.headers.get("retry-after")).toBe("60");
		expect(((await limited.json()) as ErrorBody).error.code).toBe("rate_limited");
		// The fast check (the edge's own) is not limited.
		expect((await exports.default.fetch(HEALTH, from(ip))).status).toBe(200);
		expect((await exports.default.fetch(`${HEALTH}?deep=1`, from())).status).toBe(200);
	});

	it("answers deep checks from many addresses with one database round trip while it is fresh", async () => {
		const answers = await Promise.all(
			Array.from({ length: 8 }, async () => (await exports.default.fetch(`${HEALTH}?deep=1`, from())).json()),
		);
		// The database's clock, in microseconds, as it answered: one value means one round trip.
		const times = new Set(answers.map((a) => (a as { database_time: string }).database_time));
		expect(answers[0]).toMatchObject({
			status: "ok",
			database: "ok",
			database_time: expect.stringMatching(/^\d{4}-.+Z$/),
		});
		expect(times.size).toBe(1);
	});
});
