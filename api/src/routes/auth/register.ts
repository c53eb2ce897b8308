/**
 * `POST /api/v1/register` (also `/api/v1/auth/register`, the path the original smoke test
 * calls): creates a user and its wallet in one transaction, so a user never exists without a
 * wallet. 201 with the user; 409 when the username or the Telegram account is taken.
 *
 * A player does not declare deposit addresses here: whoever declared an address would receive
 * every deposit sent to it. `deposit_addresses` is refused with a 422 that points to the route
 * that issues the player an address ({@link ISSUE_ROUTE}).
 *
 * The same statements work on a database this system created and on the original platform's:
 * there, a trigger (`tr_create_wallet`) creates each user's wallet, so the wallet is inserted
 * only when it does not exist yet, in a statement after the user's (the trigger has run by
 * then), and a taken name is recognised by its column, whatever the constraint is called.
 *
 * A Telegram account is bound only with Telegram's signed login data (`telegram_login`, checked
 * with the bot's token): a bare `telegram_id` proves nothing and is refused. Without one the
 * user gets `telegram_id` 0, the original's "no Telegram account". A password is optional:
 * players who come through Telegram may have none and cannot log in with one. When given, only
 * its PBKDF2 hash is stored.
 *
 * @module
 */
import { Hono } from "hono";
import * as z from "../../../../schema/zod";
import { ApiError, type FieldError } from "../../../../shared/http/errors";
import { jsonBody } from "../../../../shared/http/request-input";
import { hashPassword } from "../../../../shared/password";
import type { AppEnv } from "../../env";
import { database, uniqueViolation } from "../../lib/database";
import { isoTimestamp } from "../../lib/pagination";
import { telegramLoginSchema, verifiedTelegramId } from "../../lib/telegram-login";
import { ISSUE_ROUTE } from "../deposit-address";

/** 3–48 characters as in the original API; letters, digits and `_ . -` so names cannot spoof. */
export const usernameSchema = z
	.string()
	.check(z.regex(/^[A-Za-z0-9_.-]{3,48}$/, "3 to 48 letters, digits, '_', '.' or '-'"));
/** Long enough to resist guessing; bounded so hashing cost stays bounded. */
const passwordSchema = z.string().check(z.minLength(8, "at least 8 characters"), z.maxLength(256));

export const registerSchema = z.object({
	username: usernameSchema,
	password: z.nullish(passwordSchema),
	telegram_login: z.nullish(telegramLoginSchema),
	telegram_id: z.optional(
		z.unknown().check(
			z.refine((v) => v === undefined || v === null, {
				message:
					"is not accepted on its own: anyone could claim any account. Send telegram_login, the data Telegram's login widget signed, or register without Telegram",
			}),
		),
	),
	// Refused whatever it holds (even [] or null), so no client goes on believing it counts.
	deposit_addresses: z.optional(
		z.undefined({
			error: `deposit addresses are not declared at registration; once registered and logged in, get your deposit address from ${ISSUE_ROUTE} {"chain": "bep20" | "erc20" | "trc20"}`,
		}),
	),
});

/** Which field a unique violation is about, by the columns Postgres names. */
function takenField(columns: string[]): FieldError | undefined {
	if (columns.includes("username")) return { path: "username", message: "this username is taken" };
	if (columns.includes("telegram_id")) {
		return { path: "telegram_login", message: "this Telegram account is already registered" };
	}
	return undefined;
}

/** The user. On the original's database its trigger adds the wallet at the end of this statement. */
const INSERT_USER = `
INSERT INTO users (username, telegram_id, password_hash) VALUES ($1, $2::bigint, $3) RETURNING id`;

/** The wallet, where no trigger made one. */
const INSERT_WALLET = `
INSERT INTO wallets (user_id) SELECT id FROM users WHERE username = $1
ON CONFLICT (user_id) DO NOTHING`;

const REGISTERED = `
SELECT u.id, u.username, u.telegram_id::text AS telegram_id, u.status::text AS status,
	${isoTimestamp("u.created_at")} AS created_at,
	w.deposit_balance::text AS deposit_balance, w.winning_balance::text AS winning_balance,
	w.bonus_balance::text AS bonus_balance
FROM users u JOIN wallets w ON w.user_id = u.id
WHERE u.username = $1`;

export const register = new Hono<AppEnv>().post("/", async (c) => {
	const input = await jsonBody(c, registerSchema);
	const telegramId = input.telegram_login ? await verifiedTelegramId(c.env, input.telegram_login) : 0;
	const passwordHash = input.password ? await hashPassword(input.password) : null;
	let rows: Record<string, unknown>[];
	try {
		const results = await database(c.env).batch([
			{
				text: INSERT_USER,
				params: [input.username, telegramId, passwordHash],
			},
			{ text: INSERT_WALLET, params: [input.username] },
			{ text: REGISTERED, params: [input.username] },
		]);
		rows = results[2] ?? [];
	} catch (error) {
		const columns = uniqueViolation(error);
		const taken = columns ? takenField(columns) : undefined;
		if (taken) throw new ApiError("conflict", taken.message, { fields: [taken] });
		throw error;
	}
	const user = rows[0]!;
	return c.json(
		{
			id: user.id,
			username: user.username,
			telegram_id: user.telegram_id === "0" ? null : Number(user.telegram_id),
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
