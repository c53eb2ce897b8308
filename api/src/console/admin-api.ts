/**
 * The console acts through the admin API itself, in process: each action is a request to the
 * same Hono routes (`/api/v1/admin/*`, `/api/v1/login`) that operators' scripts call, with an
 * access token minted for the signed-in admin. One implementation of every action, its checks,
 * race guards and audit rows; the console adds only forms and pages.
 *
 * @module
 */
import { Hono } from "hono";
import { type FieldError, handleError } from "../../../shared/http/errors";
import type { AppEnv } from "../env";
import { signAccessToken } from "../lib/access-token";
import { admin } from "../routes/admin";
import { auth } from "../routes/auth";

const api = new Hono<AppEnv>();
api.route("/api/v1/admin", admin);
api.route("/api/v1", auth);
api.onError(handleError);

/** What an API call answered: its status and JSON body (the error envelope on failure). */
interface ApiAnswer<T = Record<string, unknown>> {
	status: number;
	ok: boolean;
	body: T & { error?: { code: string; message: string; fields?: FieldError[]; [k: string]: unknown } };
	headers: Headers;
}

/**
 * What a refused call says, for a notice: the error's message and, for a 422, each failing
 * field (`reason: must be at least 10 characters`); `fallback` when the answer carries none.
 */
export function refusalText(answer: ApiAnswer<unknown>, fallback = `answer ${answer.status}`): string {
	const error = answer.body.error;
	if (!error) return fallback;
	const fields = error.fields?.length
		? ` (${error.fields.map((f) => `${f.path}: ${f.message}`).join("; ")})`
		: "";
	return `${error.message}${fields}`;
}

async function dispatch<T>(
	env: AppEnv["Bindings"],
	method: "GET" | "POST",
	path: string,
	headers: Record<string, string>,
	body?: unknown,
): Promise<ApiAnswer<T>> {
	const init: RequestInit = { method, headers: { ...headers } };
	if (body !== undefined) {
		init.body = JSON.stringify(body);
		(init.headers as Record<string, string>)["content-type"] = "application/json";
	}
	const res = await api.request(`https://console.internal${path}`, init, env);
	const text = await res.text();
	let parsed: unknown = {};
	try {
		parsed = text ? JSON.parse(text) : {};
	} catch {
		parsed = { error: { code: "internal_error", message: text.slice(0, 200) } };
	}
	return { status: res.status, ok: res.ok, body: parsed as ApiAnswer<T>["body"], headers: res.headers };
}

/**
 * Logs in through `POST /api/v1/login` exactly as a script would: the same rate limit for the
 * caller's address, the same per-account lockout, TOTP check and audit rows.
 */
export function apiLogin(
	env: AppEnv["Bindings"],
	clientIp: string,
	credentials: { username: string; password: string; totp: string },
) {
	return dispatch<{ refresh_token: string; role: string }>(
		env,
		"POST",
		"/api/v1/login",
		{ "cf-connecting-ip": clientIp },
		credentials,
	);
}

/** Calls an admin route as the admin `adminId`. */
export async function adminApi<T = Record<string, unknown>>(
	env: AppEnv["Bindings"],
	adminId: string,
	method: "GET" | "POST",
	path: `/${string}`,
	body?: unknown,
): Promise<ApiAnswer<T>> {
	const token = await signAccessToken(env, { sub: adminId, role: "admin" });
	return dispatch<T>(env, method, `/api/v1/admin${path}`, { authorization: `Bearer ${token}` }, body);
}
