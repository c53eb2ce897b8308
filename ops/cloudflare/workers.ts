/**
 * The project's Workers as the ops commands see them: which wrangler config each comes from,
 * and what its config says for an environment (script name, Analytics Engine dataset, queue).
 * Read with wrangler's own config reader, so the names are exactly the ones wrangler deploys.
 *
 * @module
 */
import { unstable_readConfig } from "wrangler";
import type { AlertTarget } from "../../shared/alerts/signals";
import type { WorkerKind } from "../../shared/rollout/figures";
import { UsageError } from "../usage-error";
import type { WranglerTarget } from "./wrangler-cli";

export type { WorkerKind };

/** Config file of each Worker, relative to the repository root. */
const WORKER_CONFIGS: Record<WorkerKind, string> = {
	edge: "wrangler.toml",
	api: "api/wrangler.toml",
	consumer: "queue-consumer/wrangler.toml",
};

export interface WorkerTarget extends WranglerTarget {
	kind: WorkerKind;
	/** The script name wrangler deploys to in this environment. */
	scriptName: string;
	/** The Analytics Engine dataset the Worker writes to. */
	dataset: string;
}

/** Parses `--worker`. */
export function workerKind(value: string | undefined): WorkerKind {
	if (value === "edge" || value === "api" || value === "consumer") return value;
	throw new UsageError(`--worker must be "edge", "api" or "consumer"${value ? `, not "${value}"` : ""}`);
}

function readConfig(configPath: string, env: string | undefined) {
	try {
		return unstable_readConfig({ config: configPath, env });
	} catch (error) {
		throw new UsageError(
			`cannot read ${configPath}${env ? ` for --env ${env}` : ""}: ${(error as Error).message}`,
		);
	}
}

/** Resolves a Worker in an environment (undefined: the config's top level). */
export function resolveWorker(kind: WorkerKind, env: string | undefined): WorkerTarget {
	const configPath = WORKER_CONFIGS[kind];
	const config = readConfig(configPath, env);
	const dataset = config.analytics_engine_datasets[0]?.dataset;
	if (!config.name || !dataset) {
		throw new UsageError(
			`${configPath}${env ? ` [env.${env}]` : ""} must name the Worker and its analytics_engine_datasets`,
		);
	}
	return { kind, configPath, env, scriptName: config.name, dataset };
}

/** The API Worker's config (it writes into the edge's dataset, so only its script name is read). */
const API_CONFIG = "api/wrangler.toml";

/** The API Worker's script name in an environment. */
function apiScriptName(env: string | undefined): string {
	const name = readConfig(API_CONFIG, env).name;
	if (!name) throw new UsageError(`${API_CONFIG}${env ? ` [env.${env}]` : ""} must name the Worker`);
	return name;
}

/** What the alert rules watch in an environment, from the Workers' configs. */
export function resolveAlertTarget(
	env: string | undefined,
	settings: { dbCapacity: number; cpuBudgetMs: number },
): AlertTarget {
	const edge = resolveWorker("edge", env);
	const consumer = resolveWorker("consumer", env);
	const api = apiScriptName(env);
	const queue = depositsQueue(env);
	return {
		environment: env ?? "local",
		dataset: edge.dataset,
		edgeScript: edge.scriptName,
		apiScript: api,
		consumerScript: consumer.scriptName,
		queue,
		dbCapacity: settings.dbCapacity,
		cpuBudgetMs: settings.cpuBudgetMs,
	};
}

/** The deposits queue of an environment, as the consumer's config names it. */
export function depositsQueue(env: string | undefined): string {
	const configPath = WORKER_CONFIGS.consumer;
	// The first consumer entry is the deposits queue; the second is its dead-letter queue.
	const queue = readConfig(configPath, env).queues.consumers?.[0]?.queue;
	if (!queue) throw new UsageError(`${configPath} has no queue consumer for --env ${env ?? "(top level)"}`);
	return queue;
}
