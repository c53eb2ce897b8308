/**
 * `ops rollout`: a gradual deployment of the edge Worker, the API Worker or the consumer with automatic gates
 * and rollback (the logic is in ops/rollout/).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { figuresQuery, readFigures } from "../../shared/rollout/figures";
import { DEFAULT_POLICY } from "../../shared/rollout/gate";
import { analyticsApi, credentialsFromEnv } from "../cloudflare/credentials";
import { WorkerDeployments } from "../cloudflare/deployments";
import { resolveWorker, workerKind } from "../cloudflare/workers";
import { interruptionReport } from "../rollout/journal";
import { parseDuration, parseNumber, parseSteps } from "../rollout/plan";
import { runRollout } from "../rollout/run-rollout";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

const p = DEFAULT_POLICY;

export const rollout: Command = {
	summary: "upload a new Worker version and shift traffic to it step by step, gated on its metrics",
	help: `usage: npm run ops -- rollout --worker edge|api|consumer --env <env> [options]

Uploads the Worker as a new version (wrangler versions upload), then routes 10 → 25 → 50 →
100 % of traffic to it (wrangler versions deploy). After each step it bakes, then compares the
new version's figures with the stable version's over the same window (Analytics Engine, by
version id): edge and api = requests, 5xx rate, p95, p99; consumer = messages, retried/dead-lettered
share, p95, p99 of the database round trip. It promotes when the new version holds the
thresholds and is not worse than stable beyond the margins; otherwise it puts the stable
version back at 100 % and stops. Every deploy is read back; the journal file holds the last
confirmed state.

  --worker <edge|api|consumer>
                             which Worker (wrangler.toml, api/wrangler.toml or
                             queue-consumer/wrangler.toml); roll out one at a time
  --env <name>               wrangler environment: staging | production
  --steps <list>             traffic steps in percent (default 10,25,50,100)
  --bake <duration>          wait after each step before judging (default 30m, as the original runbook)
  --poll <duration>          wait between re-queries while traffic is too low (default 1m)
  --max-polls <n>            re-queries per step before giving up (default 10)
  --min-requests <n>         requests each version needs before it is judged (default ${p.minRequests})
  --max-error-rate <r>       canary 5xx / failure ceiling (default ${p.maxErrorRate} = HighErrorRate)
  --max-p95-ms <ms>          canary p95 ceiling (default ${p.maxP95Ms} = HTTPHighP95)
  --max-p99-ms <ms>          canary p99 ceiling (default ${p.maxP99Ms} = HTTPHighP99)
  --error-rate-margin <r>    canary error rate may exceed stable's by this (default ${p.errorRateMargin})
  --latency-margin <r>       canary p95/p99 may exceed stable's by this share (default ${p.latencyMargin})…
  --latency-slack-ms <ms>    …plus this many ms (default ${p.latencySlackMs})
  --message <text>           deployment message (default "ops rollout")
  --tag <tag>                version tag for the upload
  --version-id <id>          roll out an already uploaded version instead of uploading
  --journal <path>           journal file (default .wrangler/rollout/<script>.json)
  --dry-run                  read the current deployment and print the plan; change nothing

Needs CLOUDFLARE_API_TOKEN (Workers Scripts: Edit, Account Analytics: Read) and
CLOUDFLARE_ACCOUNT_ID; CLOUDFLARE_API_BASE_URL overrides the API address (wrangler reads the same).

Exit codes:
  0  promoted to 100 % (or --dry-run printed the plan)
  1  the gate failed: the stable version was put back at 100 %
  2  usage error, or the Worker is not on a single version: nothing changed
  3  too little traffic to judge after the re-queries: the stable version was put back at 100 %
  4  an API or wrangler call failed: the state read back (or last confirmed) is printed, the
     stable version was put back at 100 % if possible, and the recovery command is printed
  130 interrupted (Ctrl-C): the last confirmed state and the recovery command are printed

Examples:
  npm run ops -- rollout --worker edge --env staging --bake 10m --dry-run
  npm run ops -- rollout --worker consumer --env production`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				worker: { type: "string" },
				env: { type: "string" },
				steps: { type: "string", default: "10,25,50,100" },
				bake: { type: "string", default: "30m" },
				poll: { type: "string", default: "1m" },
				"max-polls": { type: "string", default: "10" },
				"min-requests": { type: "string", default: String(p.minRequests) },
				"max-error-rate": { type: "string", default: String(p.maxErrorRate) },
				"max-p95-ms": { type: "string", default: String(p.maxP95Ms) },
				"max-p99-ms": { type: "string", default: String(p.maxP99Ms) },
				"error-rate-margin": { type: "string", default: String(p.errorRateMargin) },
				"latency-margin": { type: "string", default: String(p.latencyMargin) },
				"latency-slack-ms": { type: "string", default: String(p.latencySlackMs) },
				message: { type: "string", default: "ops rollout" },
				tag: { type: "string" },
				"version-id": { type: "string" },
				journal: { type: "string" },
				"dry-run": { type: "boolean", default: false },
			},
		});
		const kind = workerKind(values.worker);
		if (!values.env)
			throw new UsageError(
				"--env is required (staging or production): a rollout targets a deployed environment",
			);
		const target = resolveWorker(kind, values.env);
		const plan = {
			steps: parseSteps(values.steps),
			bakeMs: parseDuration("--bake", values.bake),
			pollMs: parseDuration("--poll", values.poll),
			maxPolls: parseNumber("--max-polls", values["max-polls"], 0, 1000),
			policy: {
				minRequests: parseNumber("--min-requests", values["min-requests"], 1),
				maxErrorRate: parseNumber("--max-error-rate", values["max-error-rate"], 0, 1),
				maxP95Ms: parseNumber("--max-p95-ms", values["max-p95-ms"], 0),
				maxP99Ms: parseNumber("--max-p99-ms", values["max-p99-ms"], 0),
				errorRateMargin: parseNumber("--error-rate-margin", values["error-rate-margin"], 0, 1),
				latencyMargin: parseNumber("--latency-margin", values["latency-margin"], 0),
				latencySlackMs: parseNumber("--latency-slack-ms", values["latency-slack-ms"], 0),
			},
		};
		const versionId = values["version-id"];
		if (versionId !== undefined && !/^[0-9a-f-]{36}$/.test(versionId)) {
			throw new UsageError(
				`--version-id must be a version id (a UUID, see \`wrangler versions list\`), not "${versionId}"`,
			);
		}
		const api = analyticsApi(credentialsFromEnv());
		const deployments = new WorkerDeployments(target);
		const journalPath = values.journal ?? `.wrangler/rollout/${target.scriptName}.json`;
		const started = new Date();
		// Ctrl-C mid-rollout: say what state the deployment was left in, from the journal.
		const onInterrupt = () => {
			const command = `npm run ops -- rollback --worker ${kind} --env ${values.env}`;
			for (const line of interruptionReport(journalPath, started, command)) console.error(line);
			process.exit(130);
		};
		process.once("SIGINT", onInterrupt);
		try {
			return await runRollout(
				{
					target,
					plan,
					message: values.message,
					versionId,
					tag: values.tag,
					journalPath,
					dryRun: values["dry-run"],
				},
				{
					deployments,
					figures: (versions, window) => readFigures(api, kind, target.dataset, versions, window),
					describeQuery: (versions, window) =>
						figuresQuery(
							kind,
							target.dataset,
							versions.map((v) => (v.startsWith("<") ? "NEW_VERSION_ID" : v)),
							window,
						),
					sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
					now: () => new Date(),
					log: (line) => console.log(line),
				},
			);
		} finally {
			process.off("SIGINT", onInterrupt);
		}
	},
};
