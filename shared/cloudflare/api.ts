/**
 * A small client for the read-only Cloudflare APIs the alerts and the rollout gates need:
 * the Workers Analytics Engine SQL API, the GraphQL Analytics API, and the Queues list (to turn
 * a queue name into the id GraphQL filters on). It uses `fetch` only, so the scheduled alerts
 * Worker and the Node CLI share it.
 *
 * Every failure becomes a {@link CloudflareApiError} whose message says which call failed, what
 * Cloudflare answered, and what to do about it.
 *
 * @module
 */

/** Where the API lives and who is asking. */
interface CloudflareApiConfig {
	/** e.g. `https://api.cloudflare.com/client/v4` (wrangler's `CLOUDFLARE_API_BASE_URL`). */
	baseUrl: string;
	/** An API token with Account Analytics: Read (and Queues: Read for the backlog rules). */
	token: string;
	accountId: string;
	/** Defaults to the global `fetch`. */
	fetch?: typeof fetch;
	/** Per-request timeout, ms. Default 30 s. */
	timeoutMs?: number;
}

/** The public API address; wrangler's `CLOUDFLARE_API_BASE_URL` overrides it the same way. */
export const DEFAULT_API_BASE_URL = "https://api.cloudflare.com/client/v4";

/** A call to the Cloudflare API that did not give a usable answer. */
class CloudflareApiError extends Error {
	override name = "CloudflareApiError";
	constructor(
		message: string,
		/** HTTP status, or 0 when no answer came back. */
		readonly status: number,
	) {
		super(message);
	}
}

/** One row of an Analytics Engine `FORMAT JSON` answer. 64-bit integers arrive as strings. */
export type SqlRow = Record<string, string | number | null>;

interface SqlAnswer {
	meta?: { name: string; type: string }[];
	data?: SqlRow[];
	rows?: number;
}

interface Envelope<T> {
	success?: boolean;
	errors?: { code?: number; message?: string }[];
	result?: T;
}

function hint(status: number): string {
	if (status === 401 || status === 403) {
		return "check CLOUDFLARE_API_TOKEN: it needs Account Analytics: Read (and Queues: Read, and for the console's watch page Workers Scripts: Read) on CLOUDFLARE_ACCOUNT_ID";
	}
	if (status === 429) return "the API is rate limiting this token; wait a minute and try again";
	if (status >= 500 || status === 0)
		return "Cloudflare's API is unavailable or unreachable; try again shortly";
	return "the request was refused as written; this is a bug in the query, please report it with this message";
}

/** The read-only Cloudflare API calls used by alerts and rollout gates. */
export interface CloudflareApi {
	/** The account queried (GraphQL wants it as `accountTag`). */
	readonly accountId: string;
	/** Runs an Analytics Engine SQL query (it must end in `FORMAT JSON`) and returns its rows. */
	sql(query: string): Promise<SqlRow[]>;
	/** Runs a GraphQL Analytics query and returns its `data`. */
	graphql<T>(query: string, variables: Record<string, unknown>): Promise<T>;
	/** The id of the queue called `name` (GraphQL filters on ids, not names). */
	queueId(name: string): Promise<string>;
	/**
	 * The versions the Worker `script` serves now and each one's share of traffic, in percent
	 * (its newest deployment). Needs Workers Scripts: Read.
	 */
	currentTraffic(script: string): Promise<VersionShare[]>;
}

/** A Worker version and its share of traffic, in percent. */
export interface VersionShare {
	versionId: string;
	percentage: number;
}

/**
 * Creates the client.
 *
 * @example
 * ```ts
 * const api = createCloudflareApi({ baseUrl: DEFAULT_API_BASE_URL, token, accountId });
 * const rows = await api.sql("SELECT 1 AS one FORMAT JSON");
 * ```
 */
export function createCloudflareApi(config: CloudflareApiConfig): CloudflareApi {
	const base = config.baseUrl.replace(/\/+$/, "");
	const doFetch = config.fetch ?? ((input, init) => fetch(input, init));
	const timeoutMs = config.timeoutMs ?? 30_000;

	async function call(
		what: string,
		path: string,
		init: RequestInit,
	): Promise<{ status: number; text: string }> {
		let res: Response;
		try {
			res = await doFetch(`${base}${path}`, {
				...init,
				headers: { authorization: `Bearer ${config.token}`, ...(init.headers ?? {}) },
				signal: AbortSignal.timeout(timeoutMs),
			});
		} catch (error) {
			throw new CloudflareApiError(
				`${what} failed: no answer from ${base} (${(error as Error).message}); ${hint(0)}`,
				0,
			);
		}
		const text = await res.text();
		if (!res.ok) {
			throw new CloudflareApiError(
				`${what} failed: HTTP ${res.status} ${text.slice(0, 300).trim()}; ${hint(res.status)}`,
				res.status,
			);
		}
		return { status: res.status, text };
	}

	function parseJson<T>(what: string, text: string): T {
		try {
			return JSON.parse(text) as T;
		} catch {
			throw new CloudflareApiError(`${what} failed: the answer is not JSON: ${text.slice(0, 200)}`, 200);
		}
	}

	return {
		accountId: config.accountId,

		async sql(query) {
			const what = "Analytics Engine SQL query";
			const { text } = await call(what, `/accounts/${config.accountId}/analytics_engine/sql`, {
				method: "POST",
				headers: { "content-type": "text/plain" },
				body: query,
			});
			const answer = parseJson<SqlAnswer>(what, text);
			if (!Array.isArray(answer.data)) {
				throw new CloudflareApiError(
					`${what} failed: the answer has no "data" array: ${text.slice(0, 200)}`,
					200,
				);
			}
			return answer.data;
		},

		async graphql<T>(query: string, variables: Record<string, unknown>) {
			const what = "GraphQL Analytics query";
			const { text } = await call(what, "/graphql", {
				method: "POST",
				headers: { "content-type": "application/json" },
				body: JSON.stringify({ query, variables }),
			});
			const answer = parseJson<{ data?: T | null; errors?: { message?: string }[] | null }>(what, text);
			// GraphQL reports errors with HTTP 200: a missing permission looks like this.
			if (answer.errors?.length) {
				const messages = answer.errors.map((e) => e.message ?? "unknown error").join("; ");
				throw new CloudflareApiError(`${what} failed: ${messages}; ${hint(403)}`, 200);
			}
			if (!answer.data) throw new CloudflareApiError(`${what} failed: the answer has no data`, 200);
			return answer.data;
		},

		async queueId(name) {
			const what = `looking up queue "${name}"`;
			const { text } = await call(
				what,
				`/accounts/${config.accountId}/queues?name=${encodeURIComponent(name)}&page=1`,
				{ method: "GET" },
			);
			const answer = parseJson<Envelope<{ queue_id: string; queue_name: string }[]>>(what, text);
			const queue = answer.result?.find((q) => q.queue_name === name);
			if (!queue) {
				throw new CloudflareApiError(
					`${what} failed: no queue of that name in account ${config.accountId}; check the environment (--env) and that the queue exists (wrangler queues list)`,
					404,
				);
			}
			return queue.queue_id;
		},

		async currentTraffic(script) {
			const what = `reading the deployments of Worker "${script}"`;
			const { text } = await call(
				what,
				`/accounts/${config.accountId}/workers/scripts/${encodeURIComponent(script)}/deployments`,
				{ method: "GET" },
			);
			const answer = parseJson<
				Envelope<{ deployments?: { versions?: { version_id: string; percentage: number }[] }[] }>
			>(what, text);
			// The API lists the newest deployment first: it is what serves traffic now.
			const newest = answer.result?.deployments?.[0];
			if (!newest?.versions) {
				throw new CloudflareApiError(
					`${what} failed: the Worker has no deployment; check the environment and that it was deployed`,
					404,
				);
			}
			return newest.versions.map((v) => ({ versionId: v.version_id, percentage: v.percentage }));
		},
	};
}

/** A numeric cell of an SQL row (64-bit integers come as strings), or null when empty / not a number. */
export function numberOf(row: SqlRow | undefined, column: string): number | null {
	const value = row?.[column];
	if (value === null || value === undefined || value === "") return null;
	const n = typeof value === "number" ? value : Number(value);
	return Number.isFinite(n) ? n : null;
}
