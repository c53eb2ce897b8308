import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	call,
	count,
	createAdmin,
	expectError,
	freshIp,
	json,
	login,
	registerUser,
	sql,
	telegramLogin,
	totpCode,
	uniqueName,
	userWithToken,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("register: bad input changes nothing", () => {
	it("refuses a body that is not JSON with 415", async () => {
		const res = await call("/api/v1/register", {
			body: "username=alice",
			headers: { "content-type": "application/x-www-form-urlencoded" },
			ip: freshIp(),
		});
		await expectError(res, 415, "unsupported_media_type");
		expect(await count("users")).toBe(0);
	});

	it("refuses a body without a content type with 415", async () => {
		const res = await call("/api/v1/register", {
			method: "POST",
			headers: { "content-type": "" },
			body: JSON.stringify({ username: "alice_1" }),
			ip: freshIp(),
		});
		await expectError(res, 415, "unsupported_media_type");
	});

	it("refuses a body over 8 KiB with 413", async () => {
		const res = await call("/api/v1/register", {
			body: { username: uniqueName(), password: "x".repeat(9000) },
			ip: freshIp(),
		});
		await expectError(res, 413, "payload_too_large");
		expect(await count("users")).toBe(0);
	});

	it("refuses malformed JSON with 400", async () => {
		const res = await call("/api/v1/register", { body: '{"username": "alice",', ip: freshIp() });
		const error = await expectError(res, 400, "bad_request");
		expect(error.message).toMatch(/not valid JSON/);
	});

	it("lists every failing field with 422", async () => {
		const res = await call("/api/v1/register", {
			body: { username: "a", password: "short", telegram_id: -5 },
			ip: freshIp(),
		});
		const error = await expectError(res, 422, "validation_failed");
		const paths = (error.fields as { path: string }[]).map((f) => f.path).sort();
		expect(paths).toEqual(["password", "telegram_id", "username"]);
		expect(await count("users")).toBe(0);
	});

	it("refuses a missing username, a JSON array body and a non-integer Telegram id", async () => {
		for (const body of [{ password: "long-enough-pw" }, [], { username: uniqueName(), telegram_id: 1.5 }]) {
			const res = await call("/api/v1/register", { body, ip: freshIp() });
			await expectError(res, 422, "validation_failed");
		}
		expect(await count("users")).toBe(0);
	});
});

describe("register: duplicates", () => {
	it("answers 409 for a taken username and creates nothing", async () => {
		const user = await registerUser();
		const res = await call("/api/v1/register", {
			body: { username: user.username, password: "another-password" },
			ip: freshIp(),
		});
		const error = await expectError(res, 409, "conflict");
		expect(error.fields).toEqual([{ path: "username", message: "this username is taken" }]);
		expect(await count("users")).toBe(1);
		expect(await count("wallets")).toBe(1);
	});

	it("answers 409 for a Telegram account already registered", async () => {
		await registerUser({ telegram_login: await telegramLogin({ id: 4242 }) });
		const res = await call("/api/v1/register", {
			body: { username: uniqueName(), telegram_login: await telegramLogin({ id: 4242 }) },
			ip: freshIp(),
		});
		const error = await expectError(res, 409, "conflict");
		expect(error.fields).toEqual([
			{ path: "telegram_login", message: "this Telegram account is already registered" },
		]);
		expect(await count("users")).toBe(1);
	});
});

describe("login errors", () => {
	it("answers a wrong password and an unknown username with the same 401", async () => {
		const user = await registerUser();
		const wrong = await expectError(
			await call("/api/v1/login", {
				body: { username: user.username, password: "wrong-password" },
				ip: freshIp(),
			}),
			401,
			"unauthorized",
		);
		const unknown = await expectError(
			await call("/api/v1/login", {
				body: { username: "nobody_here", password: "whatever-pw" },
				ip: freshIp(),
			}),
			401,
			"unauthorized",
		);
		expect(unknown.message).toBe(wrong.message);
	});

	it("refuses a password login for a player registered without one", async () => {
		const username = uniqueName();
		await call("/api/v1/register", {
			body: { username, telegram_login: await telegramLogin({ id: 77 }) },
			ip: freshIp(),
		});
		expect(await count("users", "username = $1", [username])).toBe(1);
		const res = await call("/api/v1/login", {
			body: { username, password: "anything-at-all" },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("refuses a disabled player with 403 and issues no token", async () => {
		const user = await registerUser();
		await sql().query("UPDATE users SET status = 'DISABLED' WHERE id = $1", [user.id]);
		const res = await call("/api/v1/login", {
			body: { username: user.username, password: user.password },
			ip: freshIp(),
		});
		await expectError(res, 403, "forbidden");
		expect(await count("refresh_tokens")).toBe(0);
	});

	it("lets a frozen player log in (to see why their balance is held)", async () => {
		const user = await registerUser();
		await sql().query("UPDATE users SET status = 'FROZEN' WHERE id = $1", [user.id]);
		const tokens = await login({ username: user.username, password: user.password });
		expect(tokens.role).toBe("user");
	});

	it("validates the login body with 422", async () => {
		const res = await call("/api/v1/login", { body: { username: "someone" }, ip: freshIp() });
		const error = await expectError(res, 422, "validation_failed");
		expect(error.fields).toEqual([expect.objectContaining({ path: "password" })]);
	});

	it("refuses an admin with a TOTP code but a wrong password, without saying which was wrong", async () => {
		const admin = await createAdmin();
		const res = await call("/api/v1/login", {
			body: { username: admin.username, password: "not-the-password", totp: "123456" },
			ip: freshIp(),
		});
		const error = await expectError(res, 401, "unauthorized");
		expect(error.message).toMatch(/^invalid username, password or TOTP code/);
	});
});

describe("refresh errors", () => {
	it("refuses an unknown refresh token", async () => {
		const res = await call("/api/v1/auth/refresh", {
			body: { refresh_token: "A".repeat(43) },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("refuses an expired refresh token", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		await sql().query(
			"UPDATE refresh_tokens SET expires_at = now() - interval '1 second' WHERE subject = $1",
			[user.id],
		);
		const res = await call("/api/v1/auth/refresh", {
			body: { refresh_token: tokens.refresh_token },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("refuses a disabled player's refresh", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		await sql().query("UPDATE users SET status = 'DISABLED' WHERE id = $1", [user.id]);
		const res = await call("/api/v1/auth/refresh", {
			body: { refresh_token: tokens.refresh_token },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("refuses a deleted admin's refresh", async () => {
		const admin = await createAdmin();
		const tokens = await login({ username: admin.username, password: admin.password, totp: totpCode() });
		await sql().query("DELETE FROM admins WHERE id = $1", [admin.id]);
		const res = await call("/api/v1/auth/refresh", {
			body: { refresh_token: tokens.refresh_token },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("validates the refresh body with 422", async () => {
		const res = await call("/api/v1/auth/refresh", { body: { refresh_token: 42 }, ip: freshIp() });
		await expectError(res, 422, "validation_failed");
	});
});

describe("rate limit on the credential routes", () => {
	// Miniflare's limiter counts in fixed windows aligned to the wall clock, so a burst may
	// straddle two windows: within 2 × limit + 1 requests one window must overflow.
	const LIMIT = 20;

	it("answers 429 with Retry-After once an address exceeds 20 login attempts a minute", async () => {
		const ip = freshIp();
		const statuses: number[] = [];
		let limited: Response | undefined;
		for (let i = 0; i < 2 * LIMIT + 1 && !limited; i++) {
			const res = await call("/api/v1/login", { body: {}, ip });
			statuses.push(res.status);
			if (res.status === 429) limited = res;
		}
		expect(statuses.slice(0, LIMIT)).toEqual(Array(LIMIT).fill(422));
		expect(limited).toBeDefined();
		expect(limited!.headers.get("retry-after")).toBe("60");
		const error = await expectError(limited!, 429, "rate_limited");
		expect(error.retry_after).toBe(60);

		// Another address, and the same address on another route, keep their own budgets.
		expect((await call("/api/v1/login", { body: {}, ip: freshIp() })).status).toBe(422);
		expect((await call("/api/v1/register", { body: {}, ip })).status).toBe(422);
	});

	it("refuses with a retryable 503 when the limiter itself fails", async () => {
		const broken = {
			limit: async () => {
				throw new Error("limiter down (test)");
			},
		};
		const res = await call("/api/v1/login", {
			body: { username: "x", password: "y" },
			envOverrides: { AUTH_LIMITER: broken as unknown as RateLimit },
		});
		await expectError(res, 503, "service_unavailable");
		expect(res.headers.get("retry-after")).toBe("5");
	});
});

describe("configuration and outages fail closed and retryable", () => {
	it("answers 503 on login, refresh and protected routes when JWT_SECRET is missing or short", async () => {
		const user = await userWithToken();
		for (const secret of ["", "too-short-secret"]) {
			const envOverrides = { JWT_SECRET: secret };
			const loginRes = await call("/api/v1/login", {
				body: { username: user.username, password: user.password },
				envOverrides,
			});
			const error = await expectError(loginRes, 503, "service_unavailable");
			expect(error.message).toBe("authentication is not configured on this server");
			await expectError(
				await call("/api/v1/wallet", { token: user.token, envOverrides }),
				503,
				"service_unavailable",
			);
			await expectError(
				await call("/api/v1/auth/refresh", { body: { refresh_token: user.refreshToken }, envOverrides }),
				503,
				"service_unavailable",
			);
		}
		// Nothing was rotated while refresh was refused.
		expect(await count("refresh_tokens", "revoked_at IS NOT NULL")).toBe(0);
	});

	it("answers 503 with Retry-After when the database cannot be reached", async () => {
		const user = await userWithToken();
		const envOverrides = { NEON_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" };
		const loginRes = await call("/api/v1/login", {
			body: { username: user.username, password: user.password },
			envOverrides,
		});
		await expectError(loginRes, 503, "service_unavailable");
		expect(loginRes.headers.get("retry-after")).toBe("5");
		await expectError(
			await call("/api/v1/wallet", { token: user.token, envOverrides }),
			503,
			"service_unavailable",
		);
		const registerRes = await call("/api/v1/register", { body: { username: uniqueName() }, envOverrides });
		await expectError(registerRes, 503, "service_unavailable");
		// The same Worker answers again once the database is back.
		expect((await json(await call("/api/v1/wallet", { token: user.token }))).deposit_balance).toBe(
			"0.00000000",
		);
	});
});
