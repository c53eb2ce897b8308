/**
 * Refresh tokens: 32 random bytes (base64url) handed to the client once; the database keeps
 * only their SHA-256, so a leaked `refresh_tokens` table cannot be replayed. Each use rotates
 * the token within its family (one per login); presenting a rotated token again, after the
 * short grace a concurrent refresh needs, revokes that family, because only a thief or a replay
 * would hold an old one (routes/auth/refresh.ts).
 *
 * @module
 */
import type { Role } from "./access-token";

const TOKEN_BYTES = 32;

/** How long a refresh token lives. Admin sessions are kept short: a refresh skips the TOTP step. */
export const REFRESH_TOKEN_TTL_SECONDS: Record<Role, number> = {
	user: 30 * 24 * 3600,
	admin: 8 * 3600,
};

/** A fresh token and the hash to store for it. */
export async function newRefreshToken(): Promise<{ token: string; hash: string }> {
	const bytes = crypto.getRandomValues(new Uint8Array(TOKEN_BYTES));
	const token = btoa(String.fromCharCode(...bytes))
		.replaceAll("+", "-")
		.replaceAll("/", "_")
		.replace(/=+$/, "");
	return { token, hash: await hashRefreshToken(token) };
}

/** The hex SHA-256 under which a token is stored and looked up. */
export async function hashRefreshToken(token: string): Promise<string> {
	const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(token));
	return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
