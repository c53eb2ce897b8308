import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	adminWithToken,
	call,
	claims,
	count,
	createAdmin,
	expectError,
	forgetFailedLogins,
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

const now = () => Math.floor(Date.now() / 1000);

describe("admin login needs TOTP", () => {
	it("gives an admin who sends no code no token at all", async () => {
		const admin = await createAdmin();
		const res = await call("/api/v1/login", {
			body: { username: admin.username, password: admin.password },
			ip: freshIp(),
		});
		const error = await expectError(res, 401, "unauthorized");
		expect(error.message).toMatch(/TOTP/);
		expect(await count("refresh_tokens")).toBe(0);
		expect(await count("audit_logs")).toBe(0);
	});

	it("answers a wrong password and a wrong, malformed or secret-less TOTP code alike, auditing the second factor", async () => {
		const admin = await createAdmin();
		const right = totpCode();
		const wrong = right === "000000" ? "111111" : "000000";
		const wrongPassword = await expectError(
			await call("/api/v1/login", {
				body: { username: admin.username, password: "not-the-password", totp: right },
				ip: freshIp(),
			}),
			401,
			"unauthorized",
		);
		for (const totp of [wrong, "12345", "abcdef", ""]) {
			await forgetFailedLogins();
			const res = await call("/api/v1/login", {
				body: { username: admin.username, password: admin.password, totp },
				ip: freshIp(),
			});
			// The whole answer is the same: nothing tells a guesser that the password was right.
			expect(await expectError(res, 401, "unauthorized")).toEqual(wrongPassword);
		}
		const failures = await sql().query(
			"SELECT details->>'reason' AS reason FROM audit_logs WHERE admin_id = $1 AND action = 'admin.login_failed'",
			[admin.id],
		);
		expect(failures).toEqual(Array(4).fill({ reason: "invalid_totp" }));
		const noSecret = await createAdmin({ secret: null });
		const res = await call("/api/v1/login", {
			body: { username: noSecret.username, password: noSecret.password, totp: totpCode() },
			ip: freshIp(),
		});
		expect(await expectError(res, 401, "unauthorized")).toEqual(wrongPassword);
		expect(await count("refresh_tokens")).toBe(0);
	});

	it("refuses a code from two steps ago (outside the drift window)", async () => {
		const admin = await createAdmin();
		const res = await call("/api/v1/login", {
			body: {
				username: admin.username,
				password: admin.password,
				totp: totpCode(undefined, Date.now() - 90_000),
			},
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
	});

	it("accepts a code only once (RFC 6238 §5.2)", async () => {
		const admin = await createAdmin();
		const code = totpCode();
		await login({ username: admin.username, password: admin.password, totp: code });
		const replay = await call("/api/v1/login", {
			body: { username: admin.username, password: admin.password, totp: code },
			ip: freshIp(),
		});
		const error = await expectError(replay, 401, "unauthorized");
		// Answered as any failed login (the message says a code is accepted once), and audited.
		expect(error.message).toMatch(/accepted once/);
		const wrongPassword = await expectError(
			await call("/api/v1/login", {
				body: { username: admin.username, password: "not-the-password", totp: code },
				ip: freshIp(),
			}),
			401,
			"unauthorized",
		);
		expect(error).toEqual(wrongPassword);
		expect(await count("refresh_tokens", "role = 'admin'")).toBe(1);
		expect(
			await count("audit_logs", "action = 'admin.login_failed' AND details->>'reason' = 'totp_reused'"),
		).toBe(1);
	});

	it("gives a player who shares an admin's username the player role, never the admin one", async () => {
		const username = uniqueName("shared");
		const admin = await createAdmin({ username });
		const player = await registerUser({ username, password: "player-password" });
		const asPlayer = await login({ username, password: "player-password" });
		expect(claims(asPlayer.access_token)).toMatchObject({ sub: player.id, role: "user" });
		// The player's password with a TOTP code is an admin login, and fails.
		const res = await call("/api/v1/login", {
			body: { username, password: "player-password", totp: totpCode() },
			ip: freshIp(),
		});
		await expectError(res, 401, "unauthorized");
		const asAdmin = await login({ username, password: admin.password, totp: totpCode() });
		expect(claims(asAdmin.access_token)).toMatchObject({ sub: admin.id, role: "admin" });
	});
});

describe("TOTP test bypass", () => {
	it("is off by default: the Worker's own configuration says false", () => {
		expect(env.TOTP_TEST_BYPASS).toBe("false");
	});

	it("in the test environment, lets an admin in without a code, and audits it as a bypass", async () => {
		const admin = await createAdmin();
		const tokens = await login(
			{ username: admin.username, password: admin.password },
			{ envOverrides: { ENVIRONMENT: "test", TOTP_TEST_BYPASS: "true" } },
		);
		expect(claims(tokens.access_token)).toMatchObject({ sub: admin.id, role: "admin" });
		const [audit] = await sql().query("SELECT details FROM audit_logs WHERE admin_id = $1", [admin.id]);
		expect(audit!.details).toMatchObject({ method: "totp_test_bypass", environment: "test" });
	});

	it("is ignored wherever ENVIRONMENT is not exactly a test environment: no token without a code", async () => {
		const admin = await createAdmin();
		for (const ENVIRONMENT of [
			"local",
			"staging",
			"production",
			"PRODUCTION",
			"Test",
			" test",
			"testing",
			"",
		]) {
			await forgetFailedLogins();
			const res = await call("/api/v1/login", {
				body: { username: admin.username, password: admin.password },
				envOverrides: { ENVIRONMENT, TOTP_TEST_BYPASS: "true" },
			});
			await expectError(res, 401, "unauthorized");
		}
		expect(await count("refresh_tokens")).toBe(0);
		// A real code still works there.
		const tokens = await login(
			{ username: admin.username, password: admin.password, totp: totpCode() },
			{ envOverrides: { ENVIRONMENT: "production", TOTP_TEST_BYPASS: "true" } },
		);
		expect(tokens.role).toBe("admin");
	});

	it("never makes a player an admin", async () => {
		const player = await registerUser();
		const tokens = await login(
			{ username: player.username, password: player.password },
			{ envOverrides: { ENVIRONMENT: "test", TOTP_TEST_BYPASS: "true" } },
		);
		expect(claims(tokens.access_token)).toMatchObject({ sub: player.id, role: "user" });
		const adminRoute = await call("/api/v1/admin/dead-letters", { token: tokens.access_token });
		await expectError(adminRoute, 403, "forbidden");
	});

	it("still checks a code when one is given", async () => {
		const admin = await createAdmin();
		const right = totpCode();
		const res = await call("/api/v1/login", {
			body: {
				username: admin.username,
				password: admin.password,
				totp: right === "000000" ? "111111" : "000000",
			},
			envOverrides: { ENVIRONMENT: "test", TOTP_TEST_BYPASS: "true" },
		});
		await expectError(res, 401, "unauthorized");
	});
});

describe("access tokens", () => {
	it("refuses requests without a token, with WWW-Authenticate", async () => {
		for (const path of ["/api/v1/wallet", "/api/v1/transactions", "/api/v1/admin/deposits/unmatched"]) {
			const res = await call(path);
			await expectError(res, 401, "unauthorized");
			expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
		}
		const basic = await call("/api/v1/wallet", { headers: { authorization: "Basic dXNlcjpwYXNz" } });
		await expectError(basic, 401, "unauthorized");
	});

	it("refuses an expired token", async () => {
		const user = await registerUser();
		const token = await sign(
			{ sub: user.id, role: "user", iat: now() - 1000, exp: now() - 100, iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		const error = await expectError(await call("/api/v1/wallet", { token }), 401, "unauthorized");
		expect(error.message).toMatch(/expired/);
	});

	it("refuses a token whose payload was edited (role raised to admin)", async () => {
		const user = await userWithToken();
		const [header, , signature] = user.token.split(".");
		const payload = btoa(JSON.stringify({ ...claims(user.token), role: "admin" })).replace(/=+$/, "");
		const forged = `${header}.${payload.replaceAll("+", "-").replaceAll("/", "_")}.${signature}`;
		expect(claims(forged)).toMatchObject({ sub: user.id, role: "admin" });
		await expectError(await call("/api/v1/admin/dead-letters", { token: forged }), 401, "unauthorized");
		await expectError(await call("/api/v1/wallet", { token: forged }), 401, "unauthorized");
	});

	it("refuses a token signed with another key, an unsigned (alg none) token and garbage", async () => {
		const user = await registerUser();
		const body = { sub: user.id, role: "admin", iat: now(), exp: now() + 600, iss: "cricalgo-edge" };
		const otherKey = await sign(body, "another-secret-that-is-long-enough-0123456789", "HS256");
		const b64 = (o: object) => btoa(JSON.stringify(o)).replace(/=+$/, "");
		const unsigned = `${b64({ alg: "none", typ: "JWT" })}.${b64(body)}.`;
		expect(claims(unsigned)).toMatchObject({ role: "admin" });
		for (const token of [otherKey, unsigned, "not.a.jwt", "abc"]) {
			await expectError(await call("/api/v1/admin/dead-letters", { token }), 401, "unauthorized");
		}
	});

	it("refuses a well-signed token with a foreign issuer or without a usable subject", async () => {
		const foreign = await sign(
			{ sub: crypto.randomUUID(), role: "user", exp: now() + 600, iss: "someone-else" },
			env.JWT_SECRET,
			"HS256",
		);
		const noSub = await sign(
			{ role: "user", exp: now() + 600, iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		const badRole = await sign(
			{ sub: crypto.randomUUID(), role: "superuser", exp: now() + 600, iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		const noExp = await sign(
			{ sub: crypto.randomUUID(), role: "user", iss: "cricalgo-edge" },
			env.JWT_SECRET,
			"HS256",
		);
		for (const token of [foreign, noSub, badRole, noExp]) {
			await expectError(await call("/api/v1/wallet", { token }), 401, "unauthorized");
		}
	});

	it("sends a player's token to admin routes away with 403, and an admin's to the wallet with 403", async () => {
		const user = await userWithToken();
		await expectError(
			await call("/api/v1/admin/deposits/unmatched", { token: user.token }),
			403,
			"forbidden",
		);
		const admin = await adminWithToken();
		await expectError(await call("/api/v1/wallet", { token: admin.token }), 403, "forbidden");
	});
});

describe("refresh token reuse", () => {
	const refresh = (token: string) =>
		call("/api/v1/auth/refresh", { body: { refresh_token: token }, ip: freshIp() });

	it("revokes that session's family when a rotated token is presented after the grace, and no other session", async () => {
		const user = await registerUser();
		const phone = await login({ username: user.username, password: user.password });
		const laptop = await login({ username: user.username, password: user.password });
		const rotated = await json(await refresh(phone.refresh_token));
		// The old token is replayed long after its rotation: a thief, not a second tab.
		await sql().query(
			"UPDATE refresh_tokens SET rotated_at = now() - interval '10 minutes' WHERE rotated_at IS NOT NULL",
		);
		await expectError(await refresh(phone.refresh_token), 401, "unauthorized");
		// The phone's session dies with it ...
		await expectError(await refresh(rotated.refresh_token), 401, "unauthorized");
		// ... the laptop's, another login, does not.
		const laptopNext = await refresh(laptop.refresh_token);
		expect(laptopNext.status).toBe(200);
		expect(await count("refresh_tokens", "subject = $1 AND revoked_at IS NULL", [user.id])).toBe(1);
	});

	it("lets two tabs refresh one token at once: both get tokens, and the session lives on", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		const results = await Promise.all([1, 2].map(() => refresh(tokens.refresh_token)));
		expect(results.map((r) => r.status)).toEqual([200, 200]);
		const next = await Promise.all(results.map((r) => json(r)));
		// Each tab carries on with its own new token.
		for (const tab of next) expect((await refresh(tab.refresh_token)).status).toBe(200);
		expect(await count("refresh_tokens", "subject = $1 AND revoked_at IS NULL", [user.id])).toBe(2);
	});

	it("lets a tab that refreshes a moment after the other (within the grace) carry on too", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		expect((await refresh(tokens.refresh_token)).status).toBe(200);
		const late = await refresh(tokens.refresh_token);
		expect(late.status).toBe(200);
		expect((await refresh((await json(late)).refresh_token)).status).toBe(200);
	});
});

describe("public registration binds a Telegram account only with Telegram's signature", () => {
	it("refuses a bare telegram_id (anyone can type anyone's id) and creates nothing", async () => {
		for (const telegram_id of [4242, "4242"]) {
			const res = await call("/api/v1/register", {
				body: { username: uniqueName(), password: "long-enough-pw", telegram_id },
				ip: freshIp(),
			});
			const error = await expectError(res, 422, "validation_failed");
			expect(JSON.stringify(error)).toMatch(/telegram_login/);
		}
		expect(await count("users")).toBe(0);
	});

	it("refuses login data signed with another bot's token, edited after signing, or too old", async () => {
		const forged = await telegramLogin({ id: 5151 }, "999:another-bot-token");
		const edited = { ...(await telegramLogin({ id: 5151 })), id: 6262 };
		const stale = await telegramLogin({ id: 5151, auth_date: Math.floor(Date.now() / 1000) - 3 * 86400 });
		for (const telegram_login of [forged, edited, stale]) {
			const res = await call("/api/v1/register", {
				body: { username: uniqueName(), telegram_login },
				ip: freshIp(),
			});
			await expectError(res, 422, "validation_failed");
		}
		expect(await count("users")).toBe(0);
	});

	it("binds nothing when the server has no bot token to check with (503, retryable)", async () => {
		const res = await call("/api/v1/register", {
			body: { username: uniqueName(), telegram_login: await telegramLogin({ id: 7373 }) },
			envOverrides: { TELEGRAM_BOT_TOKEN: "" },
		});
		await expectError(res, 503, "service_unavailable");
		expect(res.headers.get("retry-after")).toBe("5");
		expect(await count("users")).toBe(0);
	});
});

describe("SQL metacharacters in every field change nothing", () => {
	const NASTY = `'; DROP TABLE users; --`;
	const NASTY2 = `" OR 1=1; DELETE FROM wallets WHERE ''='`;

	it("refuses them where a field has a format, and stores them verbatim where it does not", async () => {
		for (const body of [
			{ username: NASTY, password: "long-enough-pw" },
			{ username: uniqueName(), telegram_id: NASTY },
		]) {
			await expectError(await call("/api/v1/register", { body, ip: freshIp() }), 422, "validation_failed");
		}
		expect(await count("users")).toBe(0);

		// A password is free text: it round-trips, because every statement is parameterised.
		const user = await registerUser({ password: NASTY2 });
		const tokens = await login({ username: user.username, password: NASTY2 });
		expect(tokens.role).toBe("user");

		for (const body of [
			{ username: NASTY, password: NASTY2 },
			{ username: NASTY2, password: NASTY, totp: NASTY.slice(0, 16) },
			{ username: `${user.username}' --`, password: "x" },
		]) {
			await expectError(await call("/api/v1/login", { body, ip: freshIp() }), 401, "unauthorized");
		}
		await expectError(
			await call("/api/v1/auth/refresh", { body: { refresh_token: `${NASTY}${NASTY2}` }, ip: freshIp() }),
			401,
			"unauthorized",
		);
		expect(await count("users")).toBe(1);
		expect(await count("wallets")).toBe(1);
	});
});
