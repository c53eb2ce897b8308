/**
 * `ops rollback`: puts the previous version of a Worker back at 100 % of traffic at once.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { credentialsFromEnv } from "../cloudflare/credentials";
import { describeTraffic, WorkerDeployments } from "../cloudflare/deployments";
import { resolveWorker, workerKind } from "../cloudflare/workers";
import { previousVersion } from "../rollout/previous-version";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

export const rollback: Command = {
	summary: "put the previous version of a Worker back at 100 % of traffic at once",
	help: `usage: npm run ops -- rollback --worker edge|api|consumer --env <env> [--to <version-id>] [--dry-run]

Reads the Worker's recent deployments (wrangler deployments list) and deploys the previous
version at 100 % (wrangler versions deploy <id>@100%), then reads the deployment back.
"Previous" is: when a rollout stopped midway (traffic split), the version of the split that
served 100 % before it; otherwise the most recent other version that served 100 %.

  --worker <edge|api|consumer>
                             which Worker
  --env <name>               wrangler environment: staging | production
  --to <version-id>          go to this version instead (see wrangler versions list)
  --message <text>           deployment message (default "ops rollback")
  --dry-run                  print what would be deployed; change nothing

Exit codes:
  0  the version serves 100 % (read back)
  2  usage error, or no previous version could be found: nothing changed
  4  an API or wrangler call failed: the state read back (if any) is printed`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				worker: { type: "string" },
				env: { type: "string" },
				to: { type: "string" },
				message: { type: "string", default: "ops rollback" },
				"dry-run": { type: "boolean", default: false },
			},
		});
		const kind = workerKind(values.worker);
		if (!values.env) throw new UsageError("--env is required (staging or production)");
		if (values.to !== undefined && !/^[0-9a-f-]{36}$/.test(values.to)) {
			throw new UsageError(
				`--to must be a version id (a UUID, see \`wrangler versions list\`), not "${values.to}"`,
			);
		}
		credentialsFromEnv();
		const target = resolveWorker(kind, values.env);
		const deployments = new WorkerDeployments(target);

		console.log(`rollback of ${target.scriptName} (${kind} Worker, env ${values.env})`);
		console.log("reading recent deployments …");
		let history: Awaited<ReturnType<WorkerDeployments["history"]>>;
		try {
			history = await deployments.history();
		} catch (error) {
			console.error(`✗ ${(error as Error).message}\nnothing was changed.`);
			return 4;
		}
		const current = history[0];
		if (current) console.log(`current: ${describeTraffic(current.traffic)} (deployment ${current.id})`);
		let versionId = values.to;
		if (!versionId) {
			const previous = previousVersion(history);
			if ("error" in previous) {
				console.error(`✗ no previous version to go back to: ${previous.error}. Pass --to <version-id>.`);
				return 2;
			}
			versionId = previous.versionId;
			console.log(`previous version: ${versionId} (served 100 % in deployment ${previous.deploymentId})`);
		}
		const traffic = [{ versionId, percentage: 100 }];
		if (values["dry-run"]) {
			console.log(`would run: ${deployments.deployCommand(traffic, values.message)}`);
			return 0;
		}
		console.log(`deploying ${versionId} at 100 % …`);
		try {
			const confirmed = await deployments.deploy(traffic, values.message);
			console.log(`✓ ${describeTraffic(confirmed.traffic)} (deployment ${confirmed.id}, read back)`);
			return 0;
		} catch (error) {
			console.error(`✗ ${(error as Error).message}`);
			try {
				const now = await deployments.current();
				console.error(
					`the Worker serves, read back now: ${describeTraffic(now.traffic)} (deployment ${now.id})`,
				);
			} catch (readError) {
				console.error(`could not read the deployment back: ${(readError as Error).message}`);
			}
			console.error(`retry when the API answers: ${deployments.deployCommand(traffic, values.message)}`);
			return 4;
		}
	},
};
