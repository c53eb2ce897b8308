/**
 * An admin of a test stack, made as an operator makes one (`ops admin create`) and signed in
 * through the login API with a real TOTP code.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { URI } from "otpauth";
import { expect } from "vitest";
import type { LocalStack } from "../../local/stack";
import { runOps } from "./run-ops";

/** What an operator holds after `ops admin create`: the name, the password, the authenticator. */
export interface StackAdmin {
	username: string;
	password: string;
	/** The authenticator's current code. */
	totp(): string;
}

/** Creates an admin named `<prefix>_<random>` with `ops admin create`. */
export async function createdAdmin(stack: LocalStack, prefix: string): Promise<StackAdmin> {
	const username = `${prefix}_${randomBytes(3).toString("hex")}`;
	// A letter first: a base64url string may begin with "-", which the CLI would read as an option.
	const password = `pw${randomBytes(18).toString("base64url")}`;
	const created = await runOps(
		["admin", "create", "--username", username, "--password", password, "--no-qr"],
		{
			DATABASE_URL: stack.databaseUrl,
			NEON_HTTP_ENDPOINT: stack.neonEndpoint,
		},
	);
	expect(created.code, created.output).toBe(0);
	const authenticator = URI.parse(/otpauth:\/\/\S+/.exec(created.stdout)![0]);
	return { username, password, totp: () => authenticator.generate() };
}

/** Signs `admin` in through the login API and returns its access token. */
export async function accessToken(stack: LocalStack, admin: StackAdmin): Promise<string> {
	const login = await fetch(`${stack.baseUrl}/api/v1/login`, {
		method: "POST",
		headers: { "content-type": "application/json" },
		body: JSON.stringify({ username: admin.username, password: admin.password, totp: admin.totp() }),
	});
	expect(login.status).toBe(200);
	return ((await login.json()) as { access_token: string }).access_token;
}

/** Creates an admin named `<prefix>_<random>` and returns its access token. */
export async function signedInAdmin(stack: LocalStack, prefix: string): Promise<string> {
	return accessToken(stack, await createdAdmin(stack, prefix));
}
