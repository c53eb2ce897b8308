/**
 * A local stand-in for Cloudflare's control-plane and analytics APIs, which cannot be reached
 * from the machines these tests run on. It is the only stand-in in the ops tests: wrangler
 * itself runs for real against it (through `CLOUDFLARE_API_BASE_URL`), and so do the CLI's and
 * the alerts Worker's own API clients.
 *
 * What it answers, in the shapes Cloudflare documents and wrangler 4 reads:
 * - Workers versions and deployments: `POST/GET /accounts/:id/workers/scripts/:name/versions`,
 *   `GET /versions/:id`, `GET/POST /deployments`, plus the metadata wrangler reads around an
 *   upload (`/workers/services/:name`, `/secrets`, `/settings`, `PATCH /script-settings`,
 *   `GET /queues?name=`, `GET /r2/buckets/:name`). Versions and deployments are kept in memory, so a deploy changes
 *   what the next `deployments status` says.
 * - Queues' pause and resume of delivery, as `wrangler queues pause-delivery|resume-delivery`
 *   (4.155) calls it: `PATCH /accounts/:id/queues/:queue_id` `{queue_name, settings:
 *   {delivery_paused}}`, and `GET /queues/:queue_id` answering the queue with its `settings`.
 * - Analytics Engine SQL (`POST /accounts/:id/analytics_engine/sql`) and GraphQL Analytics
 *   (`POST /graphql`): answered from a scenario the test sets (entries matched by the query
 *   text, and by the end of the queried window); a query nothing matches gets HTTP 400, so a
 *   test never passes on an answer it did not choose.
 * - A Slack-compatible incoming webhook (`POST /slack/:hook`), recording each message.
 *
 * Every request is recorded in `calls`, so tests assert the exact sequence. `failures` makes
 * chosen requests fail (HTTP status and Cloudflare error envelope), to test what happens when
 * the API breaks midway. Tests inside workerd drive it over HTTP under `/__stand-in/`
 * (`reset`, `scenario`, `deployment` to make a Worker serve chosen versions, `calls`, `slack`).
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { ScenarioEntry as PlainScenarioEntry } from "./alert-scenario";

/** One request the stand-in received. `path` is relative to `/client/v4`. */
export interface StandInCall {
	method: string;
	path: string;
	search: string;
	body: string;
}

interface VersionTraffic {
	version_id: string;
	percentage: number;
}

export interface Deployment {
	id: string;
	source: string;
	strategy: "percentage";
	author_email: string;
	created_on: string;
	annotations: Record<string, string>;
	versions: VersionTraffic[];
}

interface Version {
	id: string;
	number: number;
	metadata: Record<string, unknown>;
	annotations: Record<string, string>;
	resources: Record<string, unknown>;
}

interface Script {
	versions: Map<string, Version>;
	/** Newest first, as the API lists them. */
	deployments: Deployment[];
	secrets: string[];
}

/** One scripted analytics answer; `rowsFor` computes SQL rows from the query (Node tests only). */
export interface ScenarioEntry extends PlainScenarioEntry {
	rowsFor?: (query: string) => Record<string, string | number | null>[];
}

/** Makes matching requests fail. */
interface FailureRule {
	method: string;
	/** Substring of the path (relative to `/client/v4`). */
	path: string;
	/** Let this many matching requests through first. Default 0. */
	after?: number;
	/** Fail this many times, then let requests through. Default: always. */
	times?: number;
	status: number;
}

export interface CloudflareStandIn {
	/** `http://127.0.0.1:<port>/client/v4`: give it to wrangler as CLOUDFLARE_API_BASE_URL. */
	baseUrl: string;
	/** `http://127.0.0.1:<port>` */
	origin: string;
	accountId: string;
	token: string;
	calls: StandInCall[];
	scenario: ScenarioEntry[];
	failures: FailureRule[];
	/** Messages posted to `/slack/...`. */
	slack: unknown[];
	/** Status the Slack endpoint answers (default 200). */
	slackStatus: number;
	/** Creates a Worker with one version deployed at 100 %; returns that version's id. */
	seedScript(name: string, options?: { secrets?: string[]; versionId?: string }): string;
	/** Adds an uploaded (not deployed) version to a script; returns its id. */
	addVersion(name: string): string;
	/** Creates a deployment directly, as if another tool had deployed. */
	deploy(name: string, versions: VersionTraffic[]): void;
	/** Deployments of a script, newest first. */
	deployments(name: string): Deployment[];
	queues: string[];
	/** Queues whose delivery to consumers is paused. */
	pausedQueues: Set<string>;
	/** R2 buckets that exist (wrangler checks a bound bucket before an upload). */
	buckets: string[];
	reset(): void;
	close(): Promise<void>;
}

const PREFIX = "/client/v4";

function envelope(result: unknown, extra: Record<string, unknown> = {}) {
	return { success: true, errors: [], messages: [], result, ...extra };
}

function failure(status: number, code: number, message: string) {
	return { status, body: { success: false, errors: [{ code, message }], messages: [], result: null } };
}

function windowEnd(api: "sql" | "graphql", text: string, variables: Record<string, unknown>): number | null {
	if (api === "sql") {
		const m = /timestamp < toDateTime\((\d+)\)/.exec(text);
		return m ? Number(m[1]) : null;
	}
	const to = variables.to;
	return typeof to === "string" ? Math.floor(Date.parse(to) / 1000) : null;
}

/** Starts the stand-in on a free port of 127.0.0.1. */
export async function startCloudflareStandIn(
	options: { accountId?: string; token?: string } = {},
): Promise<CloudflareStandIn> {
	const accountId = options.accountId ?? "0123456789abcdef0123456789abcdef";
	const token = options.token ?? "stand-in-api-token";
	const scripts = new Map<string, Script>();
	const failureCounts = new Map<FailureRule, number>();
	const scenarioUses = new Map<ScenarioEntry, number>();

	const state: CloudflareStandIn = {
		baseUrl: "",
		origin: "",
		accountId,
		token,
		calls: [],
		scenario: [],
		failures: [],
		slack: [],
		slackStatus: 200,
		queues: [
			"deposits",
			"deposits-dlq",
			"deposits-staging",
			"deposits-staging-dlq",
			"deposits-production",
			"deposits-production-dlq",
		],
		pausedQueues: new Set(),
		buckets: ["cricalgo-last-net", "cricalgo-last-net-staging", "cricalgo-last-net-production"],
		seedScript(name, seed = {}) {
			const version = newVersion(1, { "workers/message": "initial" });
			if (seed.versionId) version.id = seed.versionId;
			scripts.set(name, {
				versions: new Map([[version.id, version]]),
				deployments: [deployment([{ version_id: version.id, percentage: 100 }], "initial")],
				secrets: seed.secrets ?? [],
			});
			return version.id;
		},
		addVersion(name) {
			const script = scripts.get(name);
			if (!script) throw new Error(`seed ${name} first`);
			const version = newVersion(script.versions.size + 1, {});
			script.versions.set(version.id, version);
			return version.id;
		},
		deploy(name, versions) {
			scripts.get(name)?.deployments.unshift(deployment(versions, "seeded"));
		},
		deployments(name) {
			return scripts.get(name)?.deployments ?? [];
		},
		reset() {
			scripts.clear();
			state.calls.length = 0;
			state.scenario = [];
			state.failures = [];
			state.slack.length = 0;
			state.slackStatus = 200;
			state.pausedQueues.clear();
			failureCounts.clear();
			scenarioUses.clear();
		},
		close: async () => {},
	};

	function newVersion(number: number, annotations: Record<string, string>): Version {
		return {
			id: randomUUID(),
			number,
			metadata: {
				created_on: new Date().toISOString(),
				modified_on: new Date().toISOString(),
				source: "wrangler",
				author_email: "deployer@example.com",
				has_preview: false,
			},
			annotations,
			resources: {
				script: { handlers: ["fetch", "queue"] },
				script_runtime: { compatibility_date: "2026-10-20", compatibility_flags: ["nodejs_compat"] },
				bindings: [],
			},
		};
	}

	function deployment(versions: VersionTraffic[], message: string | undefined): Deployment {
		return {
			id: randomUUID(),
			source: "api",
			strategy: "percentage",
			author_email: "deployer@example.com",
			created_on: new Date().toISOString(),
			annotations: message ? { "workers/message": message } : {},
			versions,
		};
	}

	function answerAnalytics(api: "sql" | "graphql", text: string, variables: Record<string, unknown>) {
		const end = windowEnd(api, text, variables);
		const entry = state.scenario.find((e) => {
			if (e.api !== api) return false;
			if (e.contains && !e.contains.every((c) => text.includes(c))) return false;
			if (e.windowEndFrom !== undefined && (end === null || end < e.windowEndFrom)) return false;
			if (e.windowEndBefore !== undefined && (end === null || end >= e.windowEndBefore)) return false;
			if (e.times !== undefined && (scenarioUses.get(e) ?? 0) >= e.times) return false;
			return true;
		});
		if (!entry) {
			return { status: 400, text: `stand-in: no scenario entry answers this ${api} query:\n${text}` };
		}
		scenarioUses.set(entry, (scenarioUses.get(entry) ?? 0) + 1);
		if (entry.status) return { status: entry.status, text: `stand-in: scripted failure ${entry.status}` };
		if (api === "sql") {
			const rows = entry.rowsFor?.(text) ?? entry.rows ?? [];
			const meta = Object.keys(rows[0] ?? {}).map((name) => ({ name, type: "Float64" }));
			return { status: 200, text: JSON.stringify({ meta, data: rows, rows: rows.length }) };
		}
		return { status: 200, text: JSON.stringify({ data: entry.data ?? null, errors: null }) };
	}

	async function route(
		method: string,
		path: string,
		url: URL,
		body: Buffer,
		headers: IncomingMessage["headers"],
	): Promise<{ status: number; body: unknown } | { status: number; text: string }> {
		if (path.startsWith("/__stand-in/") || path.startsWith("/slack/")) return control(method, path, body);
		if (!path.startsWith(PREFIX)) return failure(404, 7000, `No route for ${path}`);
		const api = path.slice(PREFIX.length);
		if (headers.authorization !== `Bearer ${token}`) return failure(401, 10000, "Authentication error");

		for (const rule of state.failures) {
			if (rule.method !== method || !api.includes(rule.path)) continue;
			const seen = (failureCounts.get(rule) ?? 0) + 1;
			failureCounts.set(rule, seen);
			const after = rule.after ?? 0;
			if (seen > after && (rule.times === undefined || seen <= after + rule.times)) {
				return failure(rule.status, 10013, "stand-in: scripted API failure");
			}
		}

		const account = `/accounts/${accountId}`;
		if (!api.startsWith(`${account}/`) && api !== "/graphql")
			return failure(403, 10000, "Authentication error");
		const rest = api.slice(account.length);

		if (api === "/graphql" && method === "POST") {
			const { query, variables } = JSON.parse(body.toString("utf8")) as {
				query: string;
				variables: Record<string, unknown>;
			};
			return answerAnalytics("graphql", query, variables ?? {});
		}
		if (rest === "/analytics_engine/sql" && method === "POST") {
			return answerAnalytics("sql", body.toString("utf8"), {});
		}
		if (rest === "/queues" && method === "GET") {
			const name = url.searchParams.get("name");
			const found = state.queues.filter((q) => !name || q === name);
			return {
				status: 200,
				body: envelope(
					found.map((q) => ({ queue_id: `queue-id-${q}`, queue_name: q, producers: [], consumers: [] })),
					{ result_info: { page: 1, per_page: 100, count: found.length, total_count: found.length } },
				),
			};
		}

		const queue = /^\/queues\/queue-id-([^/]+)$/.exec(rest);
		if (queue && (method === "GET" || method === "PATCH")) {
			const name = queue[1]!;
			if (!state.queues.includes(name)) return failure(404, 11000, "Queue does not exist");
			if (method === "PATCH") {
				const update = JSON.parse(body.toString("utf8") || "{}") as {
					settings?: { delivery_paused?: unknown };
				};
				const paused = update.settings?.delivery_paused;
				if (typeof paused !== "boolean")
					return failure(400, 11001, "settings.delivery_paused must be a boolean");
				if (paused) state.pausedQueues.add(name);
				else state.pausedQueues.delete(name);
			}
			return {
				status: 200,
				body: envelope({
					queue_id: `queue-id-${name}`,
					queue_name: name,
					created_on: "2026-01-01T00:00:00.000Z",
					modified_on: new Date().toISOString(),
					settings: {
						delivery_paused: state.pausedQueues.has(name),
						delivery_delay: 0,
						message_retention_period: 1_209_600,
					},
					producers: [],
					consumers: [],
				}),
			};
		}

		const bucket = /^\/r2\/buckets\/([^/]+)$/.exec(rest);
		if (bucket && method === "GET") {
			if (!state.buckets.includes(bucket[1]!))
				return failure(404, 10006, "The specified bucket does not exist.");
			return {
				status: 200,
				body: envelope({ name: bucket[1], creation_date: "2026-01-01T00:00:00.000Z", location: "WNAM" }),
			};
		}

		const service = /^\/workers\/services\/([^/]+)$/.exec(rest);
		if (service && method === "GET") {
			if (!scripts.has(service[1]!))
				return failure(404, 10090, "This Worker does not exist on your account.");
			return {
				status: 200,
				body: envelope({ id: service[1], default_environment: { script: { tag: "tag" } } }),
			};
		}

		const m = /^\/workers\/scripts\/([^/]+)(\/.*)?$/.exec(rest);
		if (!m) return failure(404, 7003, `stand-in: no route for ${method} ${api}`);
		const script = scripts.get(m[1]!);
		if (!script) return failure(404, 10007, "This Worker does not exist on your account.");
		const sub = m[2] ?? "";

		if (sub === "/secrets" && method === "GET") {
			return { status: 200, body: envelope(script.secrets.map((name) => ({ name, type: "secret_text" }))) };
		}
		if (sub === "/settings" && method === "GET") {
			return { status: 200, body: envelope({ bindings: [], compatibility_date: "2026-10-20" }) };
		}
		if (sub === "/script-settings" && method === "PATCH") {
			return { status: 200, body: envelope(JSON.parse(body.toString("utf8") || "{}")) };
		}
		if (sub === "/versions" && method === "POST") {
			const form = await new Request("http://stand-in/", {
				method: "POST",
				headers: { "content-type": headers["content-type"] ?? "" },
				body: new Uint8Array(body),
			}).formData();
			const metadata = JSON.parse(String(form.get("metadata") ?? "{}")) as {
				annotations?: Record<string, string>;
			};
			const version = newVersion(script.versions.size + 1, metadata.annotations ?? {});
			script.versions.set(version.id, version);
			return { status: 200, body: envelope({ ...version, startup_time_ms: 3 }) };
		}
		if (sub === "/versions" && method === "GET") {
			return { status: 200, body: envelope({ items: [...script.versions.values()].reverse() }) };
		}
		const version = /^\/versions\/([^/]+)$/.exec(sub);
		if (version && method === "GET") {
			const found = script.versions.get(version[1]!);
			return found ? { status: 200, body: envelope(found) } : failure(404, 10007, "Version not found");
		}
		if (sub === "/deployments" && method === "GET") {
			return { status: 200, body: envelope({ deployments: script.deployments }) };
		}
		if (sub === "/deployments" && method === "POST") {
			const request = JSON.parse(body.toString("utf8")) as {
				versions: VersionTraffic[];
				annotations?: Record<string, string>;
			};
			const total = request.versions.reduce((n, v) => n + v.percentage, 0);
			if (Math.abs(total - 100) > 0.001) return failure(400, 10220, "Version percentages must add up to 100");
			const unknown = request.versions.find((v) => !script.versions.has(v.version_id));
			if (unknown) return failure(400, 10007, `Version ${unknown.version_id} not found`);
			const created = deployment(request.versions, request.annotations?.["workers/message"]);
			script.deployments.unshift(created);
			return { status: 200, body: envelope(created) };
		}
		return failure(404, 7003, `stand-in: no route for ${method} ${api}`);
	}

	function control(method: string, path: string, body: Buffer): { status: number; body: unknown } {
		if (path.startsWith("/slack/") && method === "POST") {
			if (state.slackStatus !== 200) return { status: state.slackStatus, body: "invalid_token" };
			state.slack.push(JSON.parse(body.toString("utf8")));
			return { status: 200, body: "ok" };
		}
		const json = body.length ? JSON.parse(body.toString("utf8")) : {};
		switch (`${method} ${path}`) {
			case "POST /__stand-in/reset":
				state.reset();
				return { status: 200, body: { ok: true } };
			case "POST /__stand-in/scenario":
				state.scenario = json.scenario ?? [];
				state.slackStatus = json.slackStatus ?? 200;
				return { status: 200, body: { ok: true } };
			case "POST /__stand-in/deployment": {
				// A Worker serving these versions now, as a rollout step leaves it.
				const { script, versions } = json as { script: string; versions: VersionTraffic[] };
				if (!scripts.has(script)) state.seedScript(script, { versionId: versions[0]?.version_id });
				state.deploy(script, versions);
				return { status: 200, body: { ok: true } };
			}
			case "GET /__stand-in/calls":
				return { status: 200, body: { calls: state.calls } };
			case "GET /__stand-in/slack":
				return { status: 200, body: { messages: state.slack } };
			default:
				return { status: 404, body: { error: `no control route ${method} ${path}` } };
		}
	}

	const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
		const chunks: Buffer[] = [];
		for await (const chunk of req) chunks.push(chunk as Buffer);
		const body = Buffer.concat(chunks);
		const url = new URL(req.url ?? "/", "http://127.0.0.1");
		const method = req.method ?? "GET";
		if (!url.pathname.startsWith("/__stand-in/")) {
			const isMultipart = (req.headers["content-type"] ?? "").startsWith("multipart/");
			state.calls.push({
				method,
				path: url.pathname.startsWith(PREFIX) ? url.pathname.slice(PREFIX.length) : url.pathname,
				search: url.search,
				body: isMultipart ? "<multipart worker upload>" : body.toString("utf8"),
			});
		}
		let answer: Awaited<ReturnType<typeof route>>;
		try {
			answer = await route(method, url.pathname, url, body, req.headers);
		} catch (error) {
			answer = { status: 500, text: `stand-in error: ${(error as Error).stack}` };
		}
		if ("text" in answer) {
			res.writeHead(answer.status, { "content-type": "text/plain" });
			res.end(answer.text);
		} else {
			res.writeHead(answer.status, { "content-type": "application/json" });
			res.end(JSON.stringify(answer.body));
		}
	});
	await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
	const address = server.address();
	const port = typeof address === "object" && address ? address.port : 0;
	state.origin = `http://127.0.0.1:${port}`;
	state.baseUrl = `${state.origin}${PREFIX}`;
	state.close = () =>
		new Promise<void>((resolve) => {
			server.closeAllConnections();
			server.close(() => resolve());
		});
	return state;
}
