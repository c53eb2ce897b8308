/**
 * The rollout journal: a JSON file rewritten after every step of a rollout (upload, each
 * confirmed deploy, each verdict, rollback, failure), so that whatever happens to the process
 * or the API, the last confirmed state of the deployment and the command to recover are on
 * disk. Written to a temporary file and renamed, so a reader never sees half of it.
 *
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { describeTraffic, type Traffic } from "../cloudflare/deployments";

type JournalEvent =
	| { type: "uploaded"; versionId: string }
	| { type: "deployed"; step: number; deploymentId: string; traffic: Traffic[] }
	| { type: "judged"; step: number; decision: string; reasons: string[]; figures: unknown }
	| { type: "rolled_back"; deploymentId: string; traffic: Traffic[] }
	| { type: "failed"; error: string };

interface JournalState {
	worker: string;
	environment: string;
	script: string;
	startedAt: string;
	stableVersion: string;
	canaryVersion: string | null;
	plan: unknown;
	/** The deployment as last read back from Cloudflare. */
	lastConfirmed: { deploymentId: string; traffic: Traffic[]; at: string } | null;
	outcome: "in_progress" | "promoted" | "rolled_back" | "failed";
	/** What to run if the rollout did not finish cleanly. */
	recovery: string | null;
	events: (JournalEvent & { at: string })[];
}

export class RolloutJournal {
	readonly state: JournalState;

	constructor(
		readonly path: string,
		init: Omit<
			JournalState,
			"startedAt" | "lastConfirmed" | "outcome" | "recovery" | "events" | "canaryVersion"
		>,
	) {
		this.state = {
			...init,
			startedAt: new Date().toISOString(),
			canaryVersion: null,
			lastConfirmed: null,
			outcome: "in_progress",
			recovery: null,
			events: [],
		};
		this.write();
	}

	/** Appends an event (updating the confirmed state it implies) and rewrites the file. */
	record(event: JournalEvent): void {
		const at = new Date().toISOString();
		this.state.events.push({ ...event, at });
		if (event.type === "uploaded") this.state.canaryVersion = event.versionId;
		if (event.type === "deployed" || event.type === "rolled_back") {
			this.state.lastConfirmed = { deploymentId: event.deploymentId, traffic: event.traffic, at };
		}
		this.write();
	}

	/** Sets the outcome (and recovery advice) and rewrites the file. */
	finish(outcome: JournalState["outcome"], recovery: string | null = null): void {
		this.state.outcome = outcome;
		this.state.recovery = recovery;
		this.write();
	}

	private write(): void {
		writeJournal(this.path, this.state);
	}
}

/** Writes `state` to a temporary file and renames it over `path`: never half a journal. */
function writeJournal(path: string, state: JournalState): void {
	mkdirSync(dirname(path), { recursive: true });
	const temporary = `${path}.tmp`;
	writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
	renameSync(temporary, path);
}

/**
 * What to tell someone who interrupts a rollout (Ctrl-C): the last confirmed state from the
 * journal this run wrote, and how to get the stable version back. Marks the journal failed.
 *
 * @param since the run's start: an older journal is another run's and says nothing of this one.
 */
export function interruptionReport(path: string, since: Date, rollbackCommand: string): string[] {
	let state: JournalState | undefined;
	try {
		state = JSON.parse(readFileSync(path, "utf8")) as JournalState;
	} catch {}
	if (!state || Date.parse(state.startedAt) < since.getTime()) {
		return ["interrupted before anything was deployed: nothing changed."];
	}
	const last = state.lastConfirmed;
	const moved = last?.traffic.some((t) => t.versionId !== state.stableVersion && t.percentage > 0);
	if (!last || !moved) {
		return [`interrupted: ${state.stableVersion} still serves 100 % (last confirmed). Journal: ${path}`];
	}
	const recovery = `${rollbackCommand} --to ${state.stableVersion}`;
	state.outcome = "failed";
	state.recovery = recovery;
	writeJournal(path, state);
	return [
		`interrupted with traffic split: ${describeTraffic(last.traffic)} (deployment ${last.deploymentId}, confirmed ${last.at}).`,
		"Nothing watches the new version now. Put the stable version back with:",
		`  ${recovery}`,
		`Journal: ${path}`,
	];
}
