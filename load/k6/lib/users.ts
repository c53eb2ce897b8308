/**
 * The players the run's deposits are credited to: given in `USER_IDS`, or registered here
 * through the public API (`POST /api/v1/register`), as the product's sign-up does.
 *
 * @module
 */
import { sleep } from "k6";
import http from "k6/http";

/**
 * Registers `count` users named after the run; waits out the credential routes' rate limit
 * (429) and a limiter that is briefly unavailable (503), both with Retry-After.
 */
export function registerUsers(baseUrl: string, runId: string, count: number): string[] {
	const ids: string[] = [];
	for (let k = 0; k < count; k++) {
		const username = `load_${runId}_${k}`;
		for (let attempt = 1; ; attempt++) {
			const res = http.post(`${baseUrl}/api/v1/register`, JSON.stringify({ username }), {
				headers: { "content-type": "application/json" },
				tags: { endpoint: "setup" },
				responseCallback: http.expectedStatuses(201, 429, 503),
			});
			if (res.status === 201) {
				ids.push(String((res.json() as { id?: unknown }).id));
				break;
			}
			if ((res.status === 429 || res.status === 503) && attempt < 10) {
				sleep(Number(res.headers["Retry-After"] ?? 5) || 5);
				continue;
			}
			throw new Error(
				`could not register load user ${username}: ${res.status} ${String(res.body).slice(0, 300)}. ` +
					"Give existing users with USER_IDS=<uuid>,<uuid> instead.",
			);
		}
	}
	return ids;
}
