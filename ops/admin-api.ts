/**
 * A client for the edge Worker's admin HTTP API (`/api/v1/admin/...`) for ops commands: a
 * bearer token from `--token` / `OPS_TOKEN`, or an admin login (`POST /api/v1/login` with
 * username, password and TOTP code). Errors say what was asked, what came back, and what to do.
 * The options that name the API and the admin, their help lines and their reading are here too,
 * so that every admin command takes them alike.
 *
 * @module
 */
import { localBaseUrl } from "./local/defaults";
import { UsageError } from "./usage-error";

export interface AdminApi {
	host: string;
	get<T>(path: string): Promise<{ status: number; body: T }>;
	post<T>(path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** The API could not be asked (network) or refused the credentials. Exit code 4. */
export class AdminApiError extends Error {
	override name = "AdminApiError";
}

interface ErrorEnvelope {
	error?: {
		code?: string;
		message?: string;
		request_id?: string;
		fields?: { path: string; message: string }[];
	};
}

/**
 * The `{ok:false, error:{code, message, request_id, fields?}}` envelope's text (with the failing
 * fields, and the request id to quote when reporting it), or the raw body.
 */
export function describeError(body: unknown): string {
	const e = (body as ErrorEnvelope | null)?.error;
	if (!e) return typeof body === "string" ? body.slice(0, 200) : JSON.stringify(body);
	const fields = e.fields ?? [];
	const listed = fields.length ? ` (${fields.map((f) => `${f.path}: ${f.message}`).join("; ")})` : "";
	return `${e.code}: ${e.message}${listed}${e.request_id ? `, request ${e.request_id}` : ""}`;
}

async function call(host: string, method: string, path: string, token: string | null, body?: unknown) {
	const url = `${host}/api/v1${path}`;
	let res: Response;
	try {
		res = await fetch(url, {
			method,
			headers: {
				...(token ? { authorization: `Bearer ${token}` } : {}),
				...(body === undefined ? {} : { "content-type": "application/json" }),
			},
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(30_000),
		});
	} catch (error) {
		const cause = (error as { cause?: { code?: string } }).cause?.code;
		throw new AdminApiError(
			`could not reach ${url}: ${(error as Error).message}${cause ? ` (${cause})` : ""}. Check --host (is the stack running? npm start)`,
		);
	}
	const text = await res.text();
	let parsed: unknown = text;
	try {
		parsed = JSON.parse(text);
	} catch {
		// Keep the text.
	}
	if (res.status === 401 || res.status === 403) {
		throw new AdminApiError(
			`${method} ${url} answered ${res.status} (${describeError(parsed)}): the token is missing, expired or not an admin's. Log in again with --username/--password/--totp, or set OPS_TOKEN to a fresh admin access token`,
		);
	}
	return { status: res.status, body: parsed };
}

interface AdminCredentials {
	host: string;
	token?: string | undefined;
	username?: string | undefined;
	password?: string | undefined;
	totp?: string | undefined;
}

/**
 * How every admin command says where the API is and who the admin is: its `parseArgs` options
 * (beside the command's own), their lines in the command's help, and the client they give (the
 * token and the password defaulting to `OPS_TOKEN` and `OPS_PASSWORD`).
 *
 * @example
 * const { values } = parseArgs({ args, options: { ...adminLogin.options, json: { type: "boolean" } } });
 * const api = await adminLogin.api(values);
 */
export const adminLogin = {
	options: {
		host: { type: "string", default: localBaseUrl() },
		token: { type: "string" },
		username: { type: "string" },
		password: { type: "string" },
		totp: { type: "string" },
	},
	help: `  --host <url>          the edge Worker (default ${localBaseUrl()}, the local stack)
  --token <jwt>         an admin access token (default $OPS_TOKEN), or log in with:
  --username <name>     …the admin's username,
  --password <pw>       …password (default $OPS_PASSWORD),
  --totp <code>         …and the current code from the authenticator app`,
	api: (values: AdminCredentials): Promise<AdminApi> =>
		adminApi({
			host: values.host,
			token: values.token ?? process.env.OPS_TOKEN,
			username: values.username,
			password: values.password ?? process.env.OPS_PASSWORD,
			totp: values.totp,
		}),
} as const;

/** Logs in when needed and returns the client. */
async function adminApi(credentials: AdminCredentials): Promise<AdminApi> {
	const host = credentials.host.replace(/\/+$/, "");
	let token = credentials.token;
	if (!token) {
		const { username, password, totp } = credentials;
		if (!username || !password || !totp) {
			throw new UsageError(
				"an admin is needed: pass --token (or set OPS_TOKEN), or --username, --password and --totp (the code from the admin's authenticator app)",
			);
		}
		const login = await call(host, "POST", "/login", null, { username, password, totp });
		const access = (login.body as { access_token?: string; role?: string }).access_token;
		if (login.status !== 200 || !access) {
			throw new AdminApiError(
				`admin login failed: POST ${host}/api/v1/login answered ${login.status} (${describeError(login.body)}). A TOTP code works once and only for 30 seconds: wait for the next one`,
			);
		}
		token = access;
	}
	return {
		host,
		get: (path) => call(host, "GET", path, token) as never,
		post: (path, body) => call(host, "POST", path, token, body) as never,
	};
}
