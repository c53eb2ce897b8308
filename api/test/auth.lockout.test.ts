/**
 * The per-account brake on guessing (lib/login-throttle.ts): whatever addresses the guesses
 * come from, a few failures lock the account name, the lock grows, a lock refuses even the right
 * password, and existing and made-up names behave alike.
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { FAILURES_BEFORE_LOCK, FIRST_LOCK_SECONDS } from "../src/lib/login-throttle";
import {
	call,
	count,
	createAdmin,
	expectError,
	freshIp,
	login,
	registerUser,
	sql,
	totpCode,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

/** One login attempt from an address of its own (the per-address limit never applies). */
const attempt = (body: Record<string, unknown>) => call("/api/v1/login", { body, ip: freshIp() });

describe("per-account login limit", () => {
	it(`locks a player after ${FAILURES_BEFORE_LOCK} wrong passwords from as many addresses, even against the right one`, async () => {
		const user = await registerUser();
		for (let i = 1; i < FAILURES_BEFORE_LOCK; i++) {
			await expectError(
				await attempt({ username: user.username, password: `guess-${i}` }),
				401,
				"unauthorized",
			);
		}
		const locking = await attempt({ username: user.username, password: "guess-last" });
		const error = await expectError(locking, 429, "account_locked");
		expect(Number(locking.headers.get("retry-after"))).toBeGreaterThanOrEqual(FIRST_LOCK_SECONDS - 1);
		expect(error.retry_after).toBeLessThanOrEqual(FIRST_LOCK_SECONDS);
		// The right password changes nothing while the lock lasts, and issues no token.
		await expectError(
			await attempt({ username: user.username, password: user.password }),
			429,
			"account_locked",
		);
		expect(await count("refresh_tokens")).toBe(0);
	});

	it("answers a made-up name exactly like an existing one, so a lock reveals no account", async () => {
		const user = await registerUser();
		const answers = async (username: string) => {
			const out: { status: number; code: string }[] = [];
			for (let i = 0; i <= FAILURES_BEFORE_LOCK; i++) {
				const res = await attempt({ username, password: `guess-${i}` });
				out.push({
					status: res.status,
					code: ((await res.json()) as { error: { code: string } }).error.code,
				});
			}
			return out;
		};
		expect(await answers("nobody_by_that_name")).toEqual(await answers(user.username));
	});

	it("doubles the lock with each failure after it expires", async () => {
		const user = await registerUser();
		for (let i = 0; i < FAILURES_BEFORE_LOCK; i++)
			await attempt({ username: user.username, password: "x-wrong" });
		// The first lock runs out ...
		await sql().query("UPDATE login_throttle SET locked_until = now() - interval '1 second'");
		const again = await attempt({ username: user.username, password: "x-wrong-again" });
		// ... and the next failure locks for twice as long.
		const error = await expectError(again, 429, "account_locked");
		expect(error.retry_after).toBeGreaterThan(FIRST_LOCK_SECONDS);
		expect(error.retry_after).toBeLessThanOrEqual(2 * FIRST_LOCK_SECONDS);
	});

	it("clears the count on a successful login", async () => {
		const user = await registerUser();
		for (let i = 1; i < FAILURES_BEFORE_LOCK; i++)
			await attempt({ username: user.username, password: "x-wrong" });
		await login({ username: user.username, password: user.password });
		for (let i = 1; i < FAILURES_BEFORE_LOCK; i++) {
			await expectError(await attempt({ username: user.username, password: "x-wrong" }), 401, "unauthorized");
		}
	});

	it("counts wrong TOTP codes against an admin, whose right password then gets no token either", async () => {
		const admin = await createAdmin();
		const right = totpCode();
		const wrong = right === "000000" ? "111111" : "000000";
		for (let i = 1; i < FAILURES_BEFORE_LOCK; i++) {
			await expectError(
				await attempt({ username: admin.username, password: admin.password, totp: wrong }),
				401,
				"unauthorized",
			);
		}
		await expectError(
			await attempt({ username: admin.username, password: admin.password, totp: wrong }),
			429,
			"account_locked",
		);
		await expectError(
			await attempt({ username: admin.username, password: admin.password, totp: right }),
			429,
			"account_locked",
		);
		expect(await count("refresh_tokens")).toBe(0);
	});
});
