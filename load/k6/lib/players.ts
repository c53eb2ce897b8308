/**
 * The players a run credits: registered through the public API (`POST /api/v1/register`), as
 * the product's sign-up does, named `load_<run>_<n>`, each with a password derived from the
 * run and the webhook signing key. Nothing secret travels in setup data or the summary files:
 * whoever holds the signing key can derive the passwords again, which is how the settlement
 * check logs in as each player at the end of a run however long it lasted, and how a run with
 * an earlier run's `RUN_ID` reaches that run's players.
 *
 * A player's own token sees exactly what the check needs (its ledger, its wallet, its
 * deposits' status) and can move nothing: the check needs no admin credential at all.
 *
 * @module
 */
import { sleep } from "k6";
import crypto from "k6/crypto";
import encoding from "k6/encoding";
import http from "k6/http";

export interface Player {
	username: string;
	id: string;
}

/** What setup found: the run's players, and whether they existed already (an earlier run's). */
export interface Players {
	players: Player[];
	existed: boolean;
}

/** Credential routes are rate limited (20 a minute per address): retries wait this often at most. */
const ATTEMPTS = 10;

const json = { "content-type": "application/json" };

function playerName(runId: string, n: number): string {
	return `load_${runId}_${n}`;
}

/** The player's password: HMAC-SHA256 of its name under the webhook signing key, base64url. */
function playerPassword(key: ArrayBuffer, username: string): string {
	return crypto.hmac("sha256", key, `cricalgo-load-player:${username}`, "base64rawurl");
}

/** The `sub` claim of an access token: the player's id. */
function subjectOf(accessToken: string): string {
	const payload = accessToken.split(".")[1] ?? "";
	const claims = JSON.parse(encoding.b64decode(payload, "rawurl", "s")) as { sub?: unknown };
	return String(claims.sub);
}

/**
 * POSTs to a credential route, waiting out its rate limit (429) and a limiter that is briefly
 * unavailable (503), both with Retry-After.
 */
function credentialPost(url: string, body: Record<string, unknown>, expected: number[]) {
	for (let attempt = 1; ; attempt++) {
		const res = http.post(url, JSON.stringify(body), {
			headers: json,
			tags: { endpoint: "players" },
			responseCallback: http.expectedStatuses(...expected, 429, 503),
		});
		if ((res.status === 429 || res.status === 503) && attempt < ATTEMPTS) {
			const wait = Number(res.headers["Retry-After"] ?? 5) || 5;
			console.log(`${url} answered ${res.status}: waiting ${wait} s as asked …`);
			sleep(wait);
			continue;
		}
		return res;
	}
}

/** Logs a player in; returns its access token. */
export function logIn(baseUrl: string, key: ArrayBuffer, username: string): string {
	const res = credentialPost(
		`${baseUrl}/api/v1/login`,
		{ username, password: playerPassword(key, username) },
		[200],
	);
	if (res.status !== 200) {
		throw new Error(
			`could not log in load player ${username}: ${res.status} ${String(res.body).slice(0, 300)}. ` +
				(res.status === 401
					? "It was registered with another WEBHOOK_SECRET: run with a new RUN_ID."
					: "Is BASE_URL the edge Worker?"),
		);
	}
	return String((res.json() as { access_token?: unknown }).access_token);
}

/**
 * Registers `count` players for the run. A name that is taken belongs to an earlier run with the
 * same `RUN_ID` (and the same `LOAD_USERS`, so deposits map to the same players): that player
 * is logged in instead, its password derived from the same key, and its wallet already holds
 * the earlier run's deposits.
 */
export function registerPlayers(baseUrl: string, key: ArrayBuffer, runId: string, count: number): Players {
	const players: Player[] = [];
	let existed = false;
	for (let n = 0; n < count; n++) {
		const username = playerName(runId, n);
		const res = credentialPost(
			`${baseUrl}/api/v1/register`,
			{ username, password: playerPassword(key, username) },
			[201, 409],
		);
		if (res.status === 201) {
			players.push({ username, id: String((res.json() as { id?: unknown }).id) });
		} else if (res.status === 409) {
			existed = true;
			players.push({ username, id: subjectOf(logIn(baseUrl, key, username)) });
		} else {
			throw new Error(
				`could not register load player ${username}: ${res.status} ${String(res.body).slice(0, 300)}. Is BASE_URL the edge Worker?`,
			);
		}
	}
	return { players, existed };
}
