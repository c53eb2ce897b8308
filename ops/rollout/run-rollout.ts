/**
 * A gradual rollout of one Worker: upload a new version, route 10 → 25 → 50 → 100 % of
 * traffic to it, and after each bake judge it (shared/rollout/gate.ts) on its own figures against the stable
 * version's; promote, or put the stable version back at 100 % and stop.
 *
 * Nothing is left half done without saying so: every deploy is read back and journalled, and
 * if anything fails after traffic has moved, the rollout reads the deployment again, tries to
 * put the stable version back at 100 %, and prints the state it confirmed and the command that
 * recovers it.
 *
 * @module
 */
import type { TimeWindow } from "../../shared/cloudflare/analytics-sql";
import { judge, type Verdict, type VersionFigures } from "../../shared/rollout/gate";
import {
	type DeploymentState,
	describeTraffic,
	type Traffic,
	type WorkerDeployments,
} from "../cloudflare/deployments";
import type { WorkerTarget } from "../cloudflare/workers";
import { RolloutJournal } from "./journal";
import { formatDuration, type RolloutPlan } from "./plan";

/** Exit codes of `ops rollout` (also listed in its --help). */
const ROLLOUT_EXIT = {
	promoted: 0,
	rolledBack: 1,
	usage: 2,
	tooLittleTraffic: 3,
	failed: 4,
} as const;

interface RolloutRequest {
	target: WorkerTarget;
	plan: RolloutPlan;
	/** Deployment message (annotated on the version and each deployment). */
	message: string;
	/** Roll out this already uploaded version instead of uploading the working tree. */
	versionId?: string;
	/** Version tag for the upload. */
	tag?: string;
	journalPath: string;
	dryRun: boolean;
}

interface RolloutDeps {
	deployments: WorkerDeployments;
	figures(versions: readonly string[], window: TimeWindow): Promise<Map<string, VersionFigures>>;
	/** SQL the gate runs, shown by --dry-run. */
	describeQuery(versions: readonly string[], window: TimeWindow): string;
	sleep(ms: number): Promise<void>;
	now(): Date;
	log(line: string): void;
}

const short = (id: string) => id.slice(0, 8);

function showVerdict(
	log: RolloutDeps["log"],
	verdict: Verdict,
	figures: Map<string, VersionFigures>,
	ids: string[],
) {
	for (const [label, id] of [
		["canary", ids[0]!],
		["stable", ids[1]!],
	] as const) {
		const f = figures.get(id);
		if (f) {
			log(
				`      ${label} ${short(id)}: ${f.requests} requests, ${f.errors} errors, p95 ${f.p95Ms ?? "n/a"} ms, p99 ${f.p99Ms ?? "n/a"} ms`,
			);
		}
	}
	for (const c of verdict.checks) log(`      ${c.ok ? "ok  " : "FAIL"} ${c.name}: ${c.detail}`);
}

/** The traffic split of one step: the canary at `step` %, the stable version the rest. */
function stepTraffic(canary: string, stable: string, step: number): Traffic[] {
	return step === 100
		? [{ versionId: canary, percentage: 100 }]
		: [
				{ versionId: canary, percentage: step },
				{ versionId: stable, percentage: 100 - step },
			];
}

/** What every step after the upload works with. */
interface Rollout {
	request: RolloutRequest;
	deps: RolloutDeps;
	stable: string;
	canary: string;
	journal: RolloutJournal;
	rollbackCommand: string;
}

/** Runs the rollout; returns the exit code. */
export async function runRollout(request: RolloutRequest, deps: RolloutDeps): Promise<number> {
	const { target } = request;
	const where = `${target.scriptName} (${target.kind} Worker, ${target.env ? `env ${target.env}` : "top-level config"})`;
	const rollbackCommand = `npm run ops -- rollback --worker ${target.kind}${target.env ? ` --env ${target.env}` : ""}`;

	deps.log(`rollout of ${where}`);
	const stable = await readStable(request, deps, rollbackCommand);
	if (typeof stable === "number") return stable;
	if (request.dryRun) {
		printPlan(request, deps, stable);
		return ROLLOUT_EXIT.promoted;
	}

	const journal = new RolloutJournal(request.journalPath, {
		worker: target.kind,
		environment: target.env ?? "(top level)",
		script: target.scriptName,
		stableVersion: stable,
		plan: request.plan,
	});
	deps.log(`journal: ${request.journalPath}`);
	const canary = await uploadCanary(request, deps, stable, journal);
	if (typeof canary === "number") return canary;

	const rollout: Rollout = { request, deps, stable, canary, journal, rollbackCommand };
	try {
		return await walkSteps(rollout);
	} catch (error) {
		return await recoverFromFailure(rollout, error as Error);
	}
}

/** The version serving 100 % now, or the exit code when there is none to start from. */
async function readStable(
	request: RolloutRequest,
	{ deployments, log }: RolloutDeps,
	rollbackCommand: string,
): Promise<string | number> {
	log("reading the current deployment …");
	let current: DeploymentState;
	try {
		current = await deployments.current();
	} catch (error) {
		log(`✗ ${(error as Error).message}`);
		log("nothing was changed.");
		return ROLLOUT_EXIT.failed;
	}
	const only = current.traffic[0];
	if (current.traffic.length !== 1 || !only || only.percentage !== 100) {
		log(
			`✗ ${request.target.scriptName} is split between versions (${describeTraffic(current.traffic)}): a rollout starts from one version at 100 %. Finish the other rollout, or put the previous version back with \`${rollbackCommand}\`.`,
		);
		return ROLLOUT_EXIT.usage;
	}
	log(`stable version: ${only.versionId} (100 %, deployment ${current.id})`);
	return only.versionId;
}

/** --dry-run: every command the rollout would run, the gate's thresholds and its query. */
function printPlan(request: RolloutRequest, deps: RolloutDeps, stable: string): void {
	const { plan, message } = request;
	const { deployments, log } = deps;
	const canary = request.versionId ?? "<new version>";
	log("");
	log("plan (--dry-run: nothing is uploaded or deployed):");
	log(
		request.versionId
			? `  0. use the uploaded version ${request.versionId}`
			: `  0. upload the working tree as a new version (${deployments.target.configPath}, message "${message}")`,
	);
	plan.steps.forEach((step, i) => {
		log(
			`  ${i + 1}. ${deployments.deployCommand(stepTraffic(canary, stable, step), `${message} (${step} %)`)}`,
		);
		if (step !== 100) {
			log(
				`     bake ${formatDuration(plan.bakeMs)}, then judge; too little traffic: re-query every ${formatDuration(plan.pollMs)}, up to ${plan.maxPolls} times`,
			);
		}
	});
	const p = plan.policy;
	log("");
	log(
		`gate: error rate ≤ ${p.maxErrorRate * 100} % and ≤ stable + ${p.errorRateMargin * 100} points; p95 ≤ ${p.maxP95Ms} ms, p99 ≤ ${p.maxP99Ms} ms, each ≤ stable × ${1 + p.latencyMargin} + ${p.latencySlackMs} ms; at least ${p.minRequests} requests per version`,
	);
	log("on failure: the stable version goes back to 100 % at once; on too little traffic: the same (exit 3)");
	const now = deps.now();
	log("gate query (per step, over the step's window):");
	for (const line of deps
		.describeQuery([canary, stable], { from: new Date(now.getTime() - plan.bakeMs), to: now })
		.split("\n")) {
		log(`  ${line}`);
	}
}

/** The version to roll out (uploaded now, or given), or the exit code when there is none. */
async function uploadCanary(
	request: RolloutRequest,
	{ deployments, log }: RolloutDeps,
	stable: string,
	journal: RolloutJournal,
): Promise<string | number> {
	let canary: string;
	try {
		if (request.versionId) {
			canary = request.versionId;
		} else {
			log(`uploading a new version of ${request.target.scriptName} …`);
			canary = await deployments.upload(request.message, request.tag);
		}
	} catch (error) {
		log(`✗ ${(error as Error).message}`);
		log(`nothing was deployed: ${stable} still serves 100 %.`);
		journal.record({ type: "failed", error: (error as Error).message });
		journal.finish("failed");
		return ROLLOUT_EXIT.failed;
	}
	if (canary === stable) {
		log(`✗ ${canary} already serves 100 %: nothing to roll out`);
		journal.finish("failed");
		return ROLLOUT_EXIT.usage;
	}
	journal.record({ type: "uploaded", versionId: canary });
	log(`new version: ${canary}`);
	return canary;
}

/** Each step in turn: deploy, read back, bake, judge; promote at 100 %, roll back on a failed gate. */
async function walkSteps(rollout: Rollout): Promise<number> {
	const { request, deps, stable, canary, journal } = rollout;
	const { plan, message } = request;
	for (const [i, step] of plan.steps.entries()) {
		deps.log(`[${i + 1}/${plan.steps.length}] routing ${step} % of traffic to ${short(canary)} …`);
		const confirmed = await deps.deployments.deploy(
			stepTraffic(canary, stable, step),
			`${message} (${step} %)`,
		);
		journal.record({ type: "deployed", step, deploymentId: confirmed.id, traffic: confirmed.traffic });
		deps.log(`      confirmed: ${describeTraffic(confirmed.traffic)} (deployment ${confirmed.id})`);
		if (step === 100) {
			journal.finish("promoted");
			deps.log(
				`✓ ${canary} serves 100 % of ${request.target.scriptName}. Post-deploy checks: npm run ops -- alerts`,
			);
			return ROLLOUT_EXIT.promoted;
		}

		const from = deps.now();
		await bake(deps, plan.bakeMs);
		const verdict = await judgeStep(rollout, step, from);
		if (verdict.decision === "promote") {
			deps.log(`      ✓ gate held at ${step} %`);
			continue;
		}
		if (verdict.decision === "insufficient") {
			deps.log(
				`✗ still too little traffic at ${step} % after ${plan.maxPolls} re-queries: ${verdict.reasons.join("; ")}. An unjudged version does not stay in front of deposits.`,
			);
			return await restoreStable(rollout, "too little traffic to judge", ROLLOUT_EXIT.tooLittleTraffic);
		}
		deps.log(`✗ gate failed at ${step} %: ${verdict.reasons.join("; ")}`);
		return await restoreStable(rollout, verdict.reasons[0] ?? "gate failed", ROLLOUT_EXIT.rolledBack);
	}
	throw new Error("the plan has no 100 % step");
}

/** Waits out the bake, saying every minute how much is left. */
async function bake(deps: RolloutDeps, bakeMs: number): Promise<void> {
	for (let left = bakeMs; left > 0; ) {
		deps.log(`      baking: ${formatDuration(left)} left`);
		const chunk = Math.min(left, 60_000);
		await deps.sleep(chunk);
		left -= chunk;
	}
}

/** The gate's verdict on the step's window; too little traffic is re-queried up to `maxPolls` times. */
async function judgeStep({ request, deps, stable, canary, journal }: Rollout, step: number, from: Date) {
	const { plan } = request;
	for (let poll = 0; ; poll++) {
		const window = { from, to: deps.now() };
		const figures = await deps.figures([canary, stable], window);
		const verdict = judge(figures.get(canary)!, figures.get(stable)!, plan.policy);
		journal.record({
			type: "judged",
			step,
			decision: verdict.decision,
			reasons: verdict.reasons,
			figures: Object.fromEntries(figures),
		});
		showVerdict(deps.log, verdict, figures, [canary, stable]);
		if (verdict.decision !== "insufficient" || poll >= plan.maxPolls) return verdict;
		deps.log(
			`      too little traffic (${verdict.reasons.join("; ")}); query ${poll + 1} of ${plan.maxPolls} again in ${formatDuration(plan.pollMs)}`,
		);
		await deps.sleep(plan.pollMs);
	}
}

/** Something failed mid-rollout: read the deployment back and restore stable if the canary serves. */
async function recoverFromFailure(rollout: Rollout, error: Error): Promise<number> {
	const { deps, stable, canary, journal } = rollout;
	const reason = error.message;
	deps.log(`✗ ${reason}`);
	journal.record({ type: "failed", error: reason });
	let now: DeploymentState | null = null;
	try {
		now = await deps.deployments.current();
		deps.log(`the Worker serves, read back now: ${describeTraffic(now.traffic)} (deployment ${now.id})`);
	} catch (readError) {
		deps.log(`could not read the deployment back: ${(readError as Error).message}`);
	}
	const canaryServes = now ? now.traffic.some((t) => t.versionId === canary && t.percentage > 0) : true;
	if (!canaryServes) {
		deps.log(`the new version serves no traffic: ${stable} holds 100 %.`);
		journal.finish("failed");
		return ROLLOUT_EXIT.failed;
	}
	return await restoreStable(rollout, `rollout failed: ${reason}`, ROLLOUT_EXIT.failed);
}

/** Puts stable back at 100 %; on failure prints the state and the recovery command. */
async function restoreStable(rollout: Rollout, why: string, exitCode: number): Promise<number> {
	const { deps, stable, journal } = rollout;
	deps.log(`rolling back: ${stable} to 100 % …`);
	try {
		const confirmed = await deps.deployments.deploy(
			[{ versionId: stable, percentage: 100 }],
			`rollback: ${why}`.slice(0, 100),
		);
		journal.record({ type: "rolled_back", deploymentId: confirmed.id, traffic: confirmed.traffic });
		deps.log(`✓ rolled back: ${describeTraffic(confirmed.traffic)} (deployment ${confirmed.id}, read back)`);
		journal.finish(exitCode === ROLLOUT_EXIT.failed ? "failed" : "rolled_back");
		return exitCode;
	} catch (error) {
		deps.log(`✗ the rollback failed too: ${(error as Error).message}`);
		return unresolved(rollout);
	}
}

/** The rollback could not be confirmed: say what is known and how to recover. */
async function unresolved({ request, deps, stable, journal, rollbackCommand }: Rollout): Promise<number> {
	let now: DeploymentState | null = null;
	try {
		now = await deps.deployments.current();
	} catch (error) {
		deps.log(`  could not read the deployment back either: ${(error as Error).message}`);
	}
	const last = journal.state.lastConfirmed;
	if (now) {
		deps.log(`  the Worker serves, read back now: ${describeTraffic(now.traffic)} (deployment ${now.id})`);
	} else if (last) {
		deps.log(
			`  last confirmed state: ${describeTraffic(last.traffic)} (deployment ${last.deploymentId}, at ${last.at})`,
		);
	}
	const recovery = deps.deployments.deployCommand([{ versionId: stable, percentage: 100 }], "rollback");
	deps.log("  to recover, when the API answers again, run either:");
	deps.log(`    ${rollbackCommand} --to ${stable}`);
	deps.log(`    ${recovery}`);
	journal.finish("failed", recovery);
	deps.log(`  journal: ${request.journalPath}`);
	return ROLLOUT_EXIT.failed;
}
