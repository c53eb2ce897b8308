/**
 * Telegram's signed login data (the Login Widget), checked as Telegram's spec says: the
 * data-check-string is every received field but `hash`, sorted by name, as `key=value` lines
 * joined by "\n"; `hash` must be the hex HMAC-SHA-256 of it keyed by SHA-256 of the bot's
 * token (`TELEGRAM_BOT_TOKEN`); `auth_date` must be recent. Only then does a `telegram_id`
 * belong to the caller: anyone can type someone else's id.
 *
 * WebCrypto does the hashing and the comparison (`crypto.subtle.verify` compares in constant
 * time), so the check is a few lines and needs no library.
 *
 * @module
 */
import * as z from "../../../schema/zod";
import { serviceUnavailable, validationFailed } from "../../../shared/http/errors";

/** How old a login may be when it is used to register (Telegram's advice: check `auth_date`). */
const TELEGRAM_LOGIN_MAX_AGE_SECONDS = 24 * 3600;
/** Clock difference tolerated for a login dated in the future. */
const FUTURE_SKEW_SECONDS = 300;

const field = z.union([z.string().check(z.maxLength(512)), z.number().check(z.int(), z.nonnegative())]);

/** The widget's fields; unknown scalar fields are kept, since they are part of what Telegram signed. */
export const telegramLoginSchema = z.looseObject({
	id: z.union([
		z.number().check(z.int(), z.positive(), z.lte(Number.MAX_SAFE_INTEGER)),
		z.string().check(z.regex(/^[1-9]\d{0,15}$/)),
	]),
	auth_date: z.union([z.number().check(z.int(), z.positive()), z.string().check(z.regex(/^\d{1,12}$/))]),
	hash: z.string().check(z.regex(/^[0-9a-fA-F]{64}$/, "64 hex digits")),
	first_name: z.optional(z.string().check(z.maxLength(512))),
	last_name: z.optional(z.string().check(z.maxLength(512))),
	username: z.optional(z.string().check(z.maxLength(512))),
	photo_url: z.optional(z.string().check(z.maxLength(512))),
});
type TelegramLogin = z.infer<typeof telegramLoginSchema>;

function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
	return Uint8Array.from(hex.match(/../g) ?? [], (b) => Number.parseInt(b, 16));
}

/** The string Telegram signed: every field but `hash`, sorted by name, one `key=value` a line. */
function dataCheckString(login: Record<string, unknown>): string {
	return Object.keys(login)
		.filter((k) => k !== "hash")
		.sort()
		.map((k) => `${k}=${String(login[k])}`)
		.join("\n");
}

/**
 * The Telegram account id the login proves, or a 422 that says why it proves nothing. A server
 * without `TELEGRAM_BOT_TOKEN` cannot check any login: 503, and nothing is bound.
 */
export async function verifiedTelegramId(
	env: { TELEGRAM_BOT_TOKEN?: string },
	login: TelegramLogin,
	now = Math.floor(Date.now() / 1000),
): Promise<number> {
	const token = env.TELEGRAM_BOT_TOKEN ?? "";
	if (!token) {
		console.error(
			"TELEGRAM_BOT_TOKEN is not set: Telegram logins cannot be checked, so no registration binds a Telegram account (wrangler secret put TELEGRAM_BOT_TOKEN)",
		);
		throw serviceUnavailable(
			"Telegram sign-in is not configured on this server; register without telegram_login",
		);
	}
	for (const [key, value] of Object.entries(login)) {
		if (!field.safeParse(value).success) {
			throw validationFailed(`telegram_login.${key} must be a string or a whole number`, [
				{ path: `telegram_login.${key}`, message: "must be a string or a whole number" },
			]);
		}
	}
	const encoder = new TextEncoder();
	const secret = await crypto.subtle.digest("SHA-256", encoder.encode(token));
	const key = await crypto.subtle.importKey("raw", secret, { name: "HMAC", hash: "SHA-256" }, false, [
		"verify",
	]);
	const signed = await crypto.subtle.verify(
		"HMAC",
		key,
		hexBytes(login.hash.toLowerCase()),
		encoder.encode(dataCheckString(login)),
	);
	if (!signed) {
		throw validationFailed("telegram_login is not signed by Telegram for this site's bot", [
			{ path: "telegram_login", message: "is not signed by Telegram for this site's bot" },
		]);
	}
	const age = now - Number(login.auth_date);
	if (age > TELEGRAM_LOGIN_MAX_AGE_SECONDS || age < -FUTURE_SKEW_SECONDS) {
		const tooOld = `is from ${Math.round(age / 3600)} hours ago; log in with Telegram again (at most ${TELEGRAM_LOGIN_MAX_AGE_SECONDS / 3600} hours old)`;
		throw validationFailed(`telegram_login ${tooOld}`, [
			{ path: "telegram_login.auth_date", message: tooOld },
		]);
	}
	return Number(login.id);
}
