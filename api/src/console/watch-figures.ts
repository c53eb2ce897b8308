/**
 * What the console's watch page shows, read from Cloudflare with the alerts' own client and
 * queries (alerts/): each Worker version's figures, canary beside stable, through the very
 * signals the alert rules read (narrowed to one version); the queue backlogs; the state of
 * every alert rule, evaluated as the alerts Worker does; the rollout gate's verdict on a canary,
 * from the gate's own query and rules (shared/rollout/); refused webhooks by source, status and
 * reason. Each part is read on its own, so one failing query leaves the others on the page.
 *
 * The Worker needs an API token (Account Analytics: Read, Queues: Read, Workers Scripts: Read)
 * and the account id as secrets; without them the page says how to set them.
 *
 * @module
 */

import * as z from "../../../schema/zod";
import {
	cloudflareFigures,
	evaluateRules,
	evaluationTime,
	type RuleEvaluation,
} from "../../../shared/alerts/evaluate";
import { RULES } from "../../../shared/alerts/rules";
import {
	type AlertTarget,
	type Figures,
	type Refusal,
	readRefusals,
	readSignal,
} from "../../../shared/alerts/signals";
import {
	type CloudflareApi,
	createCloudflareApi,
	DEFAULT_API_BASE_URL,
	type VersionShare,
} from "../../../shared/cloudflare/api";
import { readFigures, type WorkerKind } from "../../../shared/rollout/figures";
import { DEFAULT_POLICY, judge, type Verdict } from "../../../shared/rollout/gate";
import type { AppEnv } from "../env";

/** Windows an operator can choose: minutes of traffic the version figures and the refusals cover. */
export const WATCH_WINDOWS = [5, 15, 60] as const;

export type WatchWindow = (typeof WATCH_WINDOWS)[number];

/** Long enough for the gate's 100 requests per version at a 10 % canary on modest traffic. */
export const DEFAULT_WATCH_WINDOW: WatchWindow = 15;

/** The `WATCH` var of wrangler.toml: what the page watches in this environment. */
const settingsSchema = z.object({
	dataset: z.string().check(z.minLength(1)),
	edge_script: z.string().check(z.minLength(1)),
	api_script: z.string().check(z.minLength(1)),
	consumer_script: z.string().check(z.minLength(1)),
	queue: z.string().check(z.minLength(1)),
	db_capacity: z.number().check(z.positive()),
	cpu_budget_ms: z.number().check(z.positive()),
});

/** Why the page cannot read analytics, and what the operator does about it. */
export interface WatchUnavailable {
	ok: false;
	reason: string;
	/** Commands or settings that fix it, one per line. */
	fix: string[];
}

export interface WatchSource {
	ok: true;
	api: CloudflareApi;
	target: AlertTarget;
}

/** The client and target from the Worker's bindings, or why there is none. */
export function watchSource(env: AppEnv["Bindings"]): WatchSource | WatchUnavailable {
	const local = env.ENVIRONMENT === "local";
	const missing = (["CLOUDFLARE_ACCOUNT_ID", "CLOUDFLARE_API_TOKEN"] as const).filter((name) => !env[name]);
	if (missing.length) {
		return {
			ok: false,
			reason: `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set, so this Worker cannot query Analytics Engine.`,
			fix: [
				...missing.map(
					(name) => `wrangler secret put ${name} --env ${local ? "production" : env.ENVIRONMENT}`,
				),
				"The token needs Account Analytics: Read, Queues: Read and Workers Scripts: Read on that account.",
				...(local
					? [
							"Locally there is nothing to read in any case: wrangler dev accepts Analytics Engine data points and keeps none. Watch a deployed environment.",
						]
					: []),
			],
		};
	}
	const settings = settingsSchema.safeParse(env.WATCH);
	if (!settings.success) {
		return {
			ok: false,
			reason: `The WATCH setting in wrangler.toml is incomplete: ${settings.error.issues.map((i) => `${i.path.join(".") || "WATCH"}: ${i.message}`).join("; ")}.`,
			fix: [
				"Give [vars.WATCH] dataset, edge_script, api_script, consumer_script, queue, db_capacity and cpu_budget_ms.",
			],
		};
	}
	const s = settings.data;
	return {
		ok: true,
		api: createCloudflareApi({
			baseUrl: env.CLOUDFLARE_API_BASE_URL || DEFAULT_API_BASE_URL,
			token: env.CLOUDFLARE_API_TOKEN!,
			accountId: env.CLOUDFLARE_ACCOUNT_ID!,
			timeoutMs: 10_000,
		}),
		target: {
			environment: env.ENVIRONMENT,
			dataset: s.dataset,
			edgeScript: s.edge_script,
			apiScript: s.api_script,
			consumerScript: s.consumer_script,
			queue: s.queue,
			dbCapacity: s.db_capacity,
			cpuBudgetMs: s.cpu_budget_ms,
		},
	};
}

/** A part of the page: its figures, or the error that kept them off it. */
export type Part<T> = { ok: true; value: T } | { ok: false; error: string };

async function part<T>(read: () => Promise<T>): Promise<Part<T>> {
	try {
		return { ok: true, value: await read() };
	} catch (error) {
		return { ok: false, error: error instanceof Error ? error.message : String(error) };
	}
}

/** One version of a Worker, with its role in the current deployment and its figures. */
export interface VersionFigures {
	versionId: string;
	percentage: number;
	/** The version with the larger share is stable; a second, smaller one is the canary. */
	role: "stable" | "canary";
	/** Edge: `http` and `webhook` signals. API: `http`. Consumer: `settle`. */
	figures: Figures;
}

export interface WorkerWatch {
	script: string;
	versions: Part<VersionFigures[]>;
	/** The rollout gate on the canary against stable, as `ops rollout` would judge it now; absent without a canary. */
	gate?: Part<Verdict>;
}

export interface Watch {
	window: { from: Date; to: Date };
	minutes: WatchWindow;
	/** The deposits queue's name (its dead-letter queue is this + "-dlq"). */
	queueName: string;
	edge: WorkerWatch;
	api: WorkerWatch;
	consumer: WorkerWatch;
	/** Backlogs of the deposits queue and its dead-letter queue (per queue: no version). */
	queue: Part<Figures>;
	rules: Part<RuleEvaluation[]>;
	refusals: Part<Refusal[]>;
}

function roles(traffic: VersionShare[]): VersionShare[] {
	// Stable first: the larger share (a rollout starts the new version small).
	return [...traffic].sort((a, b) => b.percentage - a.percentage);
}

/** Each Worker's script in the target, and the signals its versions are shown with. */
const WORKERS = {
	edge: { script: "edgeScript", signals: ["http", "webhook"] },
	api: { script: "apiScript", signals: ["http"] },
	consumer: { script: "consumerScript", signals: ["settle"] },
} as const satisfies Record<WorkerKind, { script: keyof AlertTarget; signals: readonly string[] }>;

async function readWorker(
	source: WatchSource,
	kind: WorkerKind,
	window: { from: Date; to: Date },
): Promise<WorkerWatch> {
	const script = source.target[WORKERS[kind].script];
	const signals: readonly ("http" | "webhook" | "settle")[] = WORKERS[kind].signals;
	let traffic: VersionShare[] = [];
	const versions = await part(async () => {
		traffic = roles(await source.api.currentTraffic(script));
		return Promise.all(
			traffic.map(async (share, i) => {
				const target = { ...source.target, version: share.versionId };
				const answers = await Promise.all(signals.map((s) => readSignal(s, source.api, target, window)));
				// The http and webhook signals both have `requests` and `p95Ms`: keep them apart.
				const figures: Figures = {};
				signals.forEach((s, j) => {
					for (const [k, v] of Object.entries(answers[j]!)) figures[s === "webhook" ? `webhook.${k}` : k] = v;
				});
				return {
					versionId: share.versionId,
					percentage: share.percentage,
					role: i === 0 ? ("stable" as const) : ("canary" as const),
					figures,
				};
			}),
		);
	});
	const [stable, canary] = traffic;
	if (!stable || !canary) return { script, versions };
	const gate = await part(async () => {
		const figures = await readFigures(
			source.api,
			kind,
			source.target.dataset,
			[canary.versionId, stable.versionId],
			window,
		);
		return judge(figures.get(canary.versionId)!, figures.get(stable.versionId)!, DEFAULT_POLICY);
	});
	return { script, versions, gate };
}

/** Reads everything the watch page shows, at `now`, over the last `minutes`. */
export async function readWatch(source: WatchSource, now: Date, minutes: WatchWindow): Promise<Watch> {
	const to = evaluationTime(now);
	const window = { from: new Date(to.getTime() - minutes * 60_000), to };
	const [edge, api, consumer, queue, rules, refusals] = await Promise.all([
		readWorker(source, "edge", window),
		readWorker(source, "api", window),
		readWorker(source, "consumer", window),
		part(() => readSignal("queue", source.api, source.target, window)),
		part(() => evaluateRules(RULES, cloudflareFigures(source.api, source.target), to)),
		part(() => readRefusals(source.api, source.target, window)),
	]);
	return { window, minutes, queueName: source.target.queue, edge, api, consumer, queue, rules, refusals };
}
