/**
 * Which version a rollback goes back to, from the Worker's recent deployments: the version
 * that last served 100 % on its own before the current deployment's newest version came in.
 *
 * - Current deployment split (a rollout stopped midway): the version of the split that last
 *   served 100 % alone, i.e. the stable one.
 * - Current deployment a single version: the most recent other version that served 100 %.
 *
 * @module
 */
import type { DeploymentState } from "../cloudflare/deployments";

type PreviousVersion = { versionId: string; deploymentId: string } | { error: string };

/** Chooses the rollback target from deployments listed newest first. */
export function previousVersion(history: readonly DeploymentState[]): PreviousVersion {
	const [current, ...earlier] = history;
	if (!current) return { error: "the Worker has no deployments" };
	const serving = new Set(current.traffic.filter((t) => t.percentage > 0).map((t) => t.versionId));
	const split = serving.size > 1;
	const [only] = serving;
	for (const d of earlier) {
		const alone = d.traffic.filter((t) => t.percentage > 0);
		if (alone.length !== 1) continue;
		const id = alone[0]!.versionId;
		if (split ? serving.has(id) : id !== only) return { versionId: id, deploymentId: d.id };
	}
	return {
		error: `none of the ${history.length} most recent deployments had ${split ? "one of the current versions" : "another version"} alone at 100 %`,
	};
}
