/**
 * The Workers versions and deployments a rollout moves between, through wrangler:
 * `versions upload`, `versions deploy`, `deployments status --json`, `deployments list --json`.
 *
 * A deploy is not taken as done on wrangler's word alone: wrangler 4's `version-deploy` event
 * names the deployment id but writes its traffic split as `{}` (a Map serialised to JSON), so
 * every deploy is confirmed by reading the current deployment back and comparing.
 *
 * @module
 */
import { commandLine, type RunWrangler, runWrangler, type WranglerTarget } from "./wrangler-cli";

/** A version and its share of traffic, in percent. */
export interface Traffic {
	versionId: string;
	percentage: number;
}

export interface DeploymentState {
	id: string;
	createdOn: string;
	traffic: Traffic[];
}

/** Formats a split as `abc12345…@10% def67890…@90%`. */
export function describeTraffic(traffic: readonly Traffic[]): string {
	return traffic.map((t) => `${t.versionId}@${t.percentage}%`).join(" ");
}

function sameTraffic(a: readonly Traffic[], b: readonly Traffic[]): boolean {
	const key = (t: readonly Traffic[]) =>
		[...t]
			.filter((x) => x.percentage > 0)
			.map((x) => `${x.versionId}@${x.percentage}`)
			.sort()
			.join(" ");
	return key(a) === key(b);
}

interface ApiDeployment {
	id: string;
	created_on: string;
	versions: { version_id: string; percentage: number }[];
}

function toState(d: ApiDeployment): DeploymentState {
	return {
		id: d.id,
		createdOn: d.created_on,
		traffic: d.versions.map((v) => ({ versionId: v.version_id, percentage: v.percentage })),
	};
}

function parseJson<T>(what: string, stdout: string): T {
	const start = stdout.search(/[[{]/);
	try {
		return JSON.parse(stdout.slice(start)) as T;
	} catch {
		throw new Error(`${what}: wrangler's --json output could not be read: ${stdout.slice(0, 300)}`);
	}
}

/** Versions and deployments of one Worker. */
export class WorkerDeployments {
	constructor(
		readonly target: WranglerTarget,
		private readonly run: RunWrangler = runWrangler,
	) {}

	/** The deployment serving traffic now. */
	async current(): Promise<DeploymentState> {
		const { stdout } = await this.run(this.target, ["deployments", "status", "--json"]);
		return toState(parseJson<ApiDeployment>("reading the current deployment", stdout));
	}

	/** Recent deployments, newest first. */
	async history(): Promise<DeploymentState[]> {
		const { stdout } = await this.run(this.target, ["deployments", "list", "--json"]);
		const list = parseJson<ApiDeployment[]>("listing deployments", stdout).map(toState);
		return list.sort((a, b) => b.createdOn.localeCompare(a.createdOn));
	}

	/** Uploads the Worker as a new version without routing traffic to it; returns its id. */
	async upload(message: string, tag?: string): Promise<string> {
		const args = ["versions", "upload", "--message", message, ...(tag ? ["--tag", tag] : [])];
		const { events } = await this.run(this.target, args);
		const uploaded = events.find((e) => e.type === "version-upload");
		const id = uploaded?.version_id;
		if (typeof id !== "string" || !id) {
			throw new Error(
				`\`${commandLine(this.target, args)}\` finished without reporting a version id (no version-upload event); check its output and retry`,
			);
		}
		return id;
	}

	/** The wrangler command that sets `traffic` (printed as recovery advice too). */
	deployCommand(traffic: readonly Traffic[], message: string): string {
		return commandLine(this.target, this.deployArgs(traffic, message));
	}

	private deployArgs(traffic: readonly Traffic[], message: string): string[] {
		return [
			"versions",
			"deploy",
			...traffic.map((t) => `${t.versionId}@${t.percentage}%`),
			"--yes",
			"--message",
			message,
		];
	}

	/**
	 * Routes traffic as given and confirms it by reading the deployment back.
	 *
	 * @returns the confirmed deployment.
	 */
	async deploy(traffic: readonly Traffic[], message: string): Promise<DeploymentState> {
		const { events } = await this.run(this.target, this.deployArgs(traffic, message));
		const deployed = events.find((e) => e.type === "version-deploy");
		const now = await this.current();
		if (!sameTraffic(now.traffic, traffic)) {
			throw new Error(
				`wrangler reported the deployment${deployed ? ` ${String(deployed.deployment_id)}` : ""} but the Worker now serves ${describeTraffic(now.traffic)}, not ${describeTraffic(traffic)}`,
			);
		}
		return now;
	}
}
