/**
 * Helpers for the account and admin tests, inside workerd: requests through the front door (the
 * edge Worker, which forwards them to the API Worker), or through the API's app with a changed
 * environment; players registered through the API, admins
 * written straight into SQL with a known TOTP secret, deposits and ledger rows seeded as
 * settlement writes them.
 *
 * @module
 */
import { env, exports } from "cloudflare:workers";
import { decode } from "hono/jwt";
import { Secret, TOTP } from "otpauth";
import { expect } from "vitest";
import type { DepositState } from "../../../schema/deposit-states";
import { depositTxId } from "../../../schema/tx-id";
import { hashPassword } from "../../../shared/password";
import { TEST_TELEGRAM_BOT_TOKEN } from "../../../test/projects";
import { testDatabase } from "../../../test/support/database";
import { expectError, freshIp, json } from "../../../test/support/http";
import { BASE, randomTxHash } from "../../../test/support/webhooks";
import { app } from "../../src/app";
import type { OptionalSecrets } from "../../src/env";

export { expectError, freshIp, json };

/** A database handle for assertions and seeding. */
export function sql() {
	return testDatabase(env).sql;
}

const defaultIp = freshIp();

interface CallOptions {
	method?: string;
	body?: unknown;
	token?: string;
	ip?: string;
	headers?: Record<string, string>;
	/** Environment overrides: the request then goes to the app with `{...env, ...envOverrides}`. */
	envOverrides?: Partial<Env & OptionalSecrets>;
}

/** Sends a request the way a client would; JSON body when `body` is given. */
export async function call(path: string, options: CallOptions = {}): Promise<Response> {
	const headers: Record<string, string> = {
		"cf-connecting-ip": options.ip ?? defaultIp,
		...(options.body !== undefined ? { "content-type": "application/json" } : {}),
		...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
		...options.headers,
	};
	const init: RequestInit = {
		method: options.method ?? (options.body !== undefined ? "POST" : "GET"),
		headers,
		...(options.body !== undefined
			? { body: typeof options.body === "string" ? options.body : JSON.stringify(options.body) }
			: {}),
	};
	if (options.envOverrides) return app.request(`${BASE}${path}`, init, { ...env, ...options.envOverrides });
	return exports.default.fetch(new Request(`${BASE}${path}`, init));
}

let userCounter = 0;
export function uniqueName(prefix = "player"): string {
	userCounter++;
	return `${prefix}_${Date.now().toString(36)}_${userCounter}`;
}

interface TestUser {
	id: string;
	username: string;
	password: string;
}

/** Registers a player through the API (password by default). */
export async function registerUser(extra: Record<string, unknown> = {}): Promise<TestUser> {
	const username = (extra.username as string | undefined) ?? uniqueName();
	const password = (extra.password as string | undefined) ?? `pw-${username}-secret`;
	const res = await call("/api/v1/register", { body: { username, password, ...extra }, ip: freshIp() });
	expect(res.status).toBe(201);
	const body = await json(res);
	return { id: body.id, username, password };
}

/** Forgets failed logins, for tests that fail more often than the per-account limit allows (auth.lockout.test.ts tests it). */
export async function forgetFailedLogins(): Promise<void> {
	await sql().query("DELETE FROM login_throttle");
}

/** Logs in and returns the token response. */
export async function login(body: Record<string, unknown>, options: CallOptions = {}) {
	const res = await call("/api/v1/login", { body, ip: freshIp(), ...options });
	expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
	return (await json(res)) as {
		access_token: string;
		refresh_token: string;
		token_type: string;
		expires_in: number;
		role: string;
	};
}

/** A registered player and an access token for them. */
export async function userWithToken(extra: Record<string, unknown> = {}) {
	const user = await registerUser(extra);
	const tokens = await login({ username: user.username, password: user.password });
	return { ...user, token: tokens.access_token, refreshToken: tokens.refresh_token };
}

/**
 * Login data as Telegram's login widget hands it to a site, signed as Telegram signs it (the
 * hex HMAC-SHA-256 of the sorted `key=value` lines, keyed by SHA-256 of the bot token).
 */
export async function telegramLogin(
	fields: Record<string, string | number> & { id: number },
	botToken = TEST_TELEGRAM_BOT_TOKEN,
): Promise<Record<string, string | number>> {
	const data = { first_name: "Test", auth_date: Math.floor(Date.now() / 1000), ...fields };
	const text = Object.keys(data)
		.sort()
		.map((k) => `${k}=${data[k as keyof typeof data]}`)
		.join("\n");
	const secret = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(botToken));
	const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
		"sign",
	]);
	const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(text)));
	return { ...data, hash: [...mac].map((b) => b.toString(16).padStart(2, "0")).join("") };
}

/** A fixed base32 secret, so tests can compute codes with otpauth. */
const TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/** The code an authenticator app would show now (or at `timestamp`). */
export function totpCode(secret = TEST_TOTP_SECRET, timestamp = Date.now()): string {
	return new TOTP({ secret: Secret.fromBase32(secret), algorithm: "SHA1", digits: 6, period: 30 }).generate({
		timestamp,
	});
}

export interface TestAdmin {
	id: string;
	username: string;
	password: string;
	secret: string;
}

/** Writes an admin straight into SQL, as `ops admin create` would. */
export async function createAdmin(
	options: { username?: string; secret?: string | null } = {},
): Promise<TestAdmin> {
	const username = options.username ?? uniqueName("admin");
	const password = `admin-pw-${username}`;
	const secret = options.secret === undefined ? TEST_TOTP_SECRET : options.secret;
	const [row] = await sql().query(
		"INSERT INTO admins (username, password_hash, totp_secret) VALUES ($1, $2, $3) RETURNING id",
		[username, await hashPassword(password), secret],
	);
	return { id: row!.id as string, username, password, secret: secret ?? "" };
}

/** An admin and an access token obtained with a TOTP code. */
export async function adminWithToken() {
	const admin = await createAdmin();
	const tokens = await login({ username: admin.username, password: admin.password, totp: totpCode() });
	expect(tokens.role).toBe("admin");
	return { ...admin, token: tokens.access_token };
}

/** The claims of a JWT, unverified. */
export function claims(token: string) {
	return decode(token).payload;
}

interface SeedDeposit {
	chain?: "bep20" | "erc20" | "trc20";
	txHash?: string;
	logIndex?: number;
	amount?: string;
	currency?: string;
	toAddress?: string | null;
	userId?: string | null;
	status?: DepositState;
	confirmations?: number;
	requiredConfirmations?: number;
	metadata?: Record<string, unknown> | null;
	/** For a `held` deposit: why, and what the rules or the chain said (as settlement holds one). */
	holdReason?: string;
	holdDetail?: Record<string, unknown>;
}

/** Inserts a deposit row as settlement leaves it; returns its tx_id. */
export async function seedDeposit(d: SeedDeposit = {}): Promise<string> {
	const chain = d.chain ?? "bep20";
	const hash = d.txHash ?? randomTxHash();
	const logIndex = d.logIndex ?? 0;
	const id = await depositTxId(chain, hash, logIndex);
	await sql().query(
		`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
			confirmations, required_confirmations, metadata, webhook_id, credited_at, hold_reason, hold_detail)
		 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::deposit_state, $10, $11, $12::jsonb, $13,
			CASE WHEN $9::deposit_state IN ('credited', 'reversed') THEN now() END, $14, $15::jsonb)`,
		[
			id,
			chain,
			hash,
			logIndex,
			d.amount ?? "10.5",
			d.currency ?? "USDT",
			d.toAddress ?? null,
			d.userId ?? null,
			d.status ?? "pending",
			d.confirmations ?? 0,
			d.requiredConfirmations ?? 12,
			d.metadata === undefined ? null : JSON.stringify(d.metadata),
			`msg_${hash.slice(2, 18)}`,
			d.holdReason ?? null,
			d.holdDetail === undefined ? null : JSON.stringify(d.holdDetail),
		],
	);
	return id;
}

/** Credits a deposit as settlement does: the ledger row and the wallet move in one step. */
export async function seedCredit(userId: string, depositId: string, amount: string, createdAt?: string) {
	await sql().transaction((q) => [
		q.query(
			`INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata, created_at)
			 VALUES ($1, 'deposit', $2, 'USDT', 'deposit', $3, '{"source":"test"}'::jsonb, COALESCE($4::timestamptz, now()))`,
			[userId, amount, depositId, createdAt ?? null],
		),
		q.query("UPDATE wallets SET deposit_balance = deposit_balance + $2::numeric WHERE user_id = $1", [
			userId,
			amount,
		]),
	]);
}

/** The audit row an answer's `audit_log_id` names: who did what, with which details. */
export async function auditRow(id: unknown): Promise<Record<string, unknown> | undefined> {
	const [row] = await sql().query("SELECT admin_id, action, details FROM audit_logs WHERE id = $1", [id]);
	return row;
}

/** Rows of a table matching a condition, for "nothing changed" assertions. */
export async function count(table: string, where = "true", params: unknown[] = []): Promise<number> {
	const [row] = await sql().query(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
	return row!.n as number;
}
