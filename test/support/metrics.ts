/**
 * The metrics data points a Worker writes, for tests inside workerd: local Analytics Engine
 * keeps nothing, so the `METRICS` binding is wrapped to record them, and a point is read back by
 * the names of the REQUEST layout (schema/metrics.ts).
 *
 * @module
 */
import { REQUEST } from "../../schema/metrics";

export type DataPoint = { blobs: string[]; doubles: number[]; indexes: string[] };

/** Local Analytics Engine keeps nothing: wrap the binding to see what the Worker writes. */
export function recordingMetrics() {
	const points: DataPoint[] = [];
	const metrics = {
		writeDataPoint: (point: DataPoint) => void points.push(point),
	} as unknown as AnalyticsEngineDataset;
	return { metrics, points };
}

/** Reads a data point back by the names of the REQUEST layout. */
export function named(point: DataPoint) {
	return Object.fromEntries(
		Object.entries(REQUEST).map(([name, column]) => {
			const index = Number(column.replace(/^\D+/, "")) - 1;
			return [name, column.startsWith("blob") ? point.blobs[index] : point.doubles[index]];
		}),
	);
}
