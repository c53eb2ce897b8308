/**
 * What the gate judges: each version's figures over a window, from Analytics Engine. Every
 * data point carries the Worker version id (schema/metrics.ts, `versionId`), so one query
 * grouped by version gives the canary's and the stable version's figures side by side.
 *
 * Edge and API Workers: requests, 5xx responses, p95/p99 response time (each Worker's own
 * request points, told apart by version id). Consumer: settled messages, messages
 * retried or dead-lettered, p95/p99 of the batch's database round trip (the part of
 * settlement a new consumer version changes).
 *
 * Shared by the rollout (`ops rollout`) and the console's watch page, which shows the gate's
 * verdict on the canary as it stands.
 *
 * @module
 */
import { COMMON, REQUEST, SETTLE } from "../../schema/metrics";
import { SETTLE_FAILURES } from "../alerts/signals";
import {
	COUNT,
	countIf,
	dataset,
	literal,
	quantile,
	type TimeWindow,
	within,
} from "../cloudflare/analytics-sql";
import { type CloudflareApi, numberOf } from "../cloudflare/api";
import type { VersionFigures } from "./gate";

/** Which Worker's figures: the edge's or the API's requests, or the consumer's settled messages. */
export type WorkerKind = "edge" | "api" | "consumer";

/** The SQL that reads both versions' figures. */
export function figuresQuery(
	kind: WorkerKind,
	datasetName: string,
	versions: readonly string[],
	window: TimeWindow,
): string {
	const [event, failed, latency] =
		kind !== "consumer"
			? ["request", `${REQUEST.status} >= 500`, REQUEST.latencyMs]
			: ["settle", `${SETTLE.outcome} IN (${SETTLE_FAILURES.map(literal).join(", ")})`, SETTLE.settleMs];
	return `SELECT ${COMMON.versionId} AS version,
  ${COUNT} AS requests,
  ${countIf(failed)} AS errors,
  ${quantile(0.95, latency)} AS p95_ms,
  ${quantile(0.99, latency)} AS p99_ms
FROM ${dataset(datasetName)}
WHERE ${COMMON.kind} = ${literal(event)} AND ${COMMON.versionId} IN (${versions.map(literal).join(", ")}) AND ${within(window)}
GROUP BY version
FORMAT JSON`;
}

/** Reads the figures of each version; a version with no points in the window gets zeros. */
export async function readFigures(
	api: CloudflareApi,
	kind: WorkerKind,
	datasetName: string,
	versions: readonly string[],
	window: TimeWindow,
): Promise<Map<string, VersionFigures>> {
	const rows = await api.sql(figuresQuery(kind, datasetName, versions, window));
	const figures = new Map<string, VersionFigures>();
	for (const version of versions) {
		const row = rows.find((r) => r.version === version);
		const requests = numberOf(row, "requests") ?? 0;
		figures.set(version, {
			requests,
			errors: numberOf(row, "errors") ?? 0,
			p95Ms: requests > 0 ? numberOf(row, "p95_ms") : null,
			p99Ms: requests > 0 ? numberOf(row, "p99_ms") : null,
		});
	}
	return figures;
}
