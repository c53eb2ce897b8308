/**
 * `POST /api/v1/register` (also `/api/v1/auth/register`, the path the original smoke test
 * calls): creates a user and its wallet in one statement, so a user never exists without a
 * wallet. 201 with the user; 409 when the username or Telegram id is taken.
 *
 * A player does not declare deposit addresses here: whoever declared an address would receive
 * every deposit sent to it. `deposit_addresses` is refused with a 422 that points to the route
 * that issues the player an address ({@link ISSUE_ROUTE}).
 *
 * A password is optional: players who come through Telegram have none and cannot log in with
 * one. When given, only its PBKDF2 hash is stored.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../../env";
import { ApiError } from "../../errors";
import { database, postgresError } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";
import { hashPassword } from "../../lib/password";
import { jsonBody } from "../../lib/request-input";
import { ISSUE_ROUTE } from "../deposit-address";

/** 3–48 characters as in the original API; letters, digits and `_ . -` so names cannot spoof. */
export const usernameSchema = z
	.string()
	.regex(/^[A-Za-z0-9_.-]{3,48}$/, "3 to 48 letters, digits, '_', '.' or '-'");
/** Long enough to resist guessing; bounded so hashing cost stays bounded. */
export const passwordSchema = z.string().min(8, "at least 8 characters").max(256);

const telegramIdSchema = z.union([
	z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
	z
		.string()
		.regex(/^[1-9]\d{0,15}$/, "a positive integer")
		.transform(Number)
		.refine(Number.isSafeInteger, "a positive integer"),
]);

const registerSchema = z.object({
	username: usernameSchema,
	password: passwordSchema.nullish(),
	telegram_id: telegramIdSchema.nullish(),
	// Refused whatever it holds (even [] or null), so no client goes on believing it counts.
	deposit_addresses: z
		.undefined({
			error: `deposit addresses are not declared at registration; once registered and logged in, get your deposit address from ${ISSUE_ROUTE} {"chain": "bep20" | "erc20" | "trc20"}`,
		})
		.optional(),
});

/** Which field a unique violation is about, by constraint name (schema/migrations). */
const TAKEN: Record<string, { field: string; message: string }> = {
	users_username_unique: { field: "username", message: "this username is taken" },
	users_telegram_id_unique: { field: "telegram_id", message: "this Telegram account is already registered" },
};

const INSERT_USER = `
WITH u AS (
	INSERT INTO users (username, telegram_id, password_hash)
	VALUES ($1, $2::bigint, $3)
	RETURNING id, username, telegram_id, status, created_at
), w AS (
	INSERT INTO wallets (user_id) SELECT id FROM u
	RETURNING deposit_balance, winning_balance, bonus_balance
)
SELECT u.id, u.username, u.telegram_id::text AS telegram_id, u.status::text AS status,
	${isoTimestamp("u.created_at")} AS created_at,
	w.deposit_balance::text AS deposit_balance, w.winning_balance::text AS winning_balance,
	w.bonus_balance::text AS bonus_balance
FROM u, w`;

export const register = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, registerSchema);
	const passwordHash = input.password ? await hashPassword(input.password) : null;
	let rows: Record<string, unknown>[];
	try {
		rows = await database(c.env).query(INSERT_USER, [
			input.username,
			input.telegram_id ?? null,
			passwordHash,
		]);
	} catch (error) {
		const { code, constraint } = postgresError(error);
		const taken = code === "23505" && constraint ? TAKEN[constraint] : undefined;
		if (taken) throw new ApiError(409, "conflict", taken.message, { field: taken.field });
		throw error;
	}
	const user = rows[0]!;
	return c.json(
		{
			id: user.id,
			username: user.username,
			telegram_id: user.telegram_id === null ? null : Number(user.telegram_id),
			status: user.status,
			created_at: user.created_at,
			has_password: passwordHash !== null,
			wallet: {
				currency: "USDT",
				deposit_balance: user.deposit_balance,
				winning_balance: user.winning_balance,
				bonus_balance: user.bonus_balance,
			},
		},
		201,
	);
});
