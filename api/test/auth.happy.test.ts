import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyPassword } from "../../shared/password";
import { resetDatabase } from "../../test/support/database";
import {
	call,
	claims,
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
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("POST /api/v1/register", () => {
	it("creates the user and an empty wallet, and stores only a PBKDF2 hash of the password", async () => {
		const username = uniqueName();
		const res = await call("/api/v1/register", {
			body: { username, password: "s3cret-enough" },
			ip: freshIp(),
		});
		expect(res.status).toBe(201);
		const body = await json(res);
		expect(body).toMatchObject({
			username,
			telegram_id: null,
			status: "ACTIVE",
			has_password: true,
			wallet: {
				currency: "USDT",
				deposit_balance: "0.00000000",
				winning_balance: "0.00000000",
				bonus_balance: "0.00000000",
			},
		});
		expect(body).not.toHaveProperty("deposit_addresses");
		expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
		expect(JSON.stringify(body)).not.toContain("s3cret-enough");

		const [user] = await sql().query("SELECT password_hash FROM users WHERE id = $1", [body.id]);
		expect(user!.password_hash).toMatch(/^pbkdf2_sha256\$100000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
		expect(user!.password_hash).not.toContain("s3cret-enough");
		expect(await verifyPassword("s3cret-enough", user!.password_hash as string)).toBe(true);
		const [wallet] = await sql().query("SELECT count(*)::int AS n FROM wallets WHERE user_id = $1", [
			body.id,
		]);
		expect(wallet!.n).toBe(1);
	});

	it("binds a Telegram account proven by Telegram's signed login data (no password needed)", async () => {
		const username = uniqueName();
		const res = await call("/api/v1/auth/register", {
			body: { username, telegram_login: await telegramLogin({ id: 1001, username: "ravi_on_telegram" }) },
			ip: freshIp(),
		});
		expect(res.status).toBe(201);
		expect(await json(res)).toMatchObject({ username, telegram_id: 1001, has_password: false });
		const [row] = await sql().query(
			"SELECT telegram_id::text AS t, password_hash FROM users WHERE username = $1",
			[username],
		);
		expect(row).toEqual({ t: "1001", password_hash: null });
	});

	it("takes a Telegram id the widget sent as a decimal string", async () => {
		const res = await call("/api/v1/register", {
			body: { username: uniqueName(), telegram_login: await telegramLogin({ id: 9007199254740991 }) },
			ip: freshIp(),
		});
		expect(res.status).toBe(201);
		expect((await json(res)).telegram_id).toBe(9007199254740991);
	});

	it("gives web sign-ups the original's telegram_id 0, as many of them as register", async () => {
		const ids: string[] = [];
		for (let i = 0; i < 3; i++) ids.push((await registerUser()).id);
		const rows = await sql().query("SELECT telegram_id::text AS t FROM users WHERE id = ANY ($1::uuid[])", [
			ids,
		]);
		expect(rows).toEqual([{ t: "0" }, { t: "0" }, { t: "0" }]);
	});
});

describe("POST /api/v1/login", () => {
	it("gives a player a 15-minute access token and a refresh token", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		expect(tokens).toMatchObject({ token_type: "Bearer", expires_in: 900, role: "user" });
		const payload = claims(tokens.access_token);
		expect(payload).toMatchObject({ sub: user.id, role: "user", iss: "cricalgo-edge" });
		expect((payload.exp as number) - (payload.iat as number)).toBe(900);
		expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);

		const wallet = await call("/api/v1/wallet", { token: tokens.access_token });
		expect(wallet.status).toBe(200);
	});

	it("answers on /api/v1/auth/login too", async () => {
		const user = await registerUser();
		const res = await call("/api/v1/auth/login", {
			body: { username: user.username, password: user.password },
			ip: freshIp(),
		});
		expect(res.status).toBe(200);
	});

	it("gives an admin with a valid TOTP code an admin token, and audits the login", async () => {
		const admin = await createAdmin();
		const tokens = await login({ username: admin.username, password: admin.password, totp: totpCode() });
		expect(tokens.role).toBe("admin");
		expect(claims(tokens.access_token)).toMatchObject({ sub: admin.id, role: "admin" });
		const audit = await sql().query("SELECT action, details FROM audit_logs WHERE admin_id = $1", [admin.id]);
		expect(audit).toEqual([
			{ action: "admin.login", details: expect.objectContaining({ method: "totp", environment: "local" }) },
		]);
		const [row] = await sql().query("SELECT last_login IS NOT NULL AS seen FROM admins WHERE id = $1", [
			admin.id,
		]);
		expect(row!.seen).toBe(true);
	});

	it("logs in an admin whose password the original platform stored as bcrypt, and replaces the hash with the current one", async () => {
		// The $2b$ modular format passlib writes (this one made by libxcrypt, an independent bcrypt).
		const bcrypt = "$2b$12$zP12tU6sYGFidXiNWb0fJ.7nRMZc/Nel.Y8iNtK.m.6BqmXrJpL3i";
		const password = "original admin password 1";
		const admin = await createAdmin();
		await sql().query("UPDATE admins SET password_hash = $2 WHERE id = $1", [admin.id, bcrypt]);
		await expectError(
			await call("/api/v1/login", {
				body: { username: admin.username, password: "original admin password 2", totp: totpCode() },
				ip: freshIp(),
			}),
			401,
			"unauthorized",
		);
		const tokens = await login({ username: admin.username, password, totp: totpCode() });
		expect(claims(tokens.access_token)).toMatchObject({ sub: admin.id, role: "admin" });
		const [row] = await sql().query("SELECT password_hash FROM admins WHERE id = $1", [admin.id]);
		expect(row!.password_hash).toMatch(/^pbkdf2_sha256\$100000\$/);
		expect(await verifyPassword(password, row!.password_hash as string)).toBe(true);
		// The next login checks the new hash (a new time step, since a code is accepted once).
		await sql().query("UPDATE admins SET last_login = now() - interval '1 minute' WHERE id = $1", [admin.id]);
		expect((await login({ username: admin.username, password, totp: totpCode() })).role).toBe("admin");
	});

	it("accepts the original API's totp_code field for the admin code", async () => {
		const admin = await createAdmin();
		const tokens = await login({ username: admin.username, password: admin.password, totp_code: totpCode() });
		expect(tokens.role).toBe("admin");
	});

	it("accepts the previous step's code (clock drift of up to 30 s)", async () => {
		const admin = await createAdmin();
		const tokens = await login({
			username: admin.username,
			password: admin.password,
			totp: totpCode(undefined, Date.now() - 30_000),
		});
		expect(tokens.role).toBe("admin");
	});
});

describe("POST /api/v1/auth/refresh", () => {
	it("rotates the refresh token and issues a working access token", async () => {
		const user = await registerUser();
		const first = await login({ username: user.username, password: user.password });
		const res = await call("/api/v1/auth/refresh", {
			body: { refresh_token: first.refresh_token },
			ip: freshIp(),
		});
		expect(res.status).toBe(200);
		const second = await json(res);
		expect(second).toMatchObject({ token_type: "Bearer", expires_in: 900, role: "user" });
		expect(second.refresh_token).not.toBe(first.refresh_token);
		expect(claims(second.access_token)).toMatchObject({ sub: user.id, role: "user" });
		expect((await call("/api/v1/wallet", { token: second.access_token })).status).toBe(200);

		const rows = await sql().query(
			"SELECT count(*) FILTER (WHERE revoked_at IS NULL)::int AS live, count(*)::int AS total FROM refresh_tokens WHERE subject = $1",
			[user.id],
		);
		expect(rows[0]).toEqual({ live: 1, total: 2 });
	});

	it("keeps the admin role through a refresh", async () => {
		const admin = await createAdmin();
		const first = await login({ username: admin.username, password: admin.password, totp: totpCode() });
		const res = await call("/api/v1/refresh", {
			body: { refresh_token: first.refresh_token },
			ip: freshIp(),
		});
		expect(res.status).toBe(200);
		expect(claims((await json(res)).access_token)).toMatchObject({ sub: admin.id, role: "admin" });
	});

	it("stores only the SHA-256 of refresh tokens", async () => {
		const user = await registerUser();
		const tokens = await login({ username: user.username, password: user.password });
		const rows = await sql().query("SELECT token_hash FROM refresh_tokens WHERE subject = $1", [user.id]);
		expect(rows).toHaveLength(1);
		expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
		expect(rows[0]!.token_hash).not.toContain(tokens.refresh_token);
	});
});
