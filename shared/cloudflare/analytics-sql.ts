/**
 * Pieces of Analytics Engine SQL shared by the alert signals and the rollout gates. The SQL API
 * takes plain text (no bound parameters), so every value placed in a query is checked against
 * a strict pattern first rather than escaped.
 *
 * @module
 */

/** A time window, `from` inclusive, `to` exclusive. */
export interface TimeWindow {
	from: Date;
	to: Date;
}

/** A dataset name as wrangler configs give it, checked so it can stand in a FROM clause. */
export function dataset(name: string): string {
	if (!/^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name)) {
		throw new Error(`"${name}" is not a valid Analytics Engine dataset name (letters, digits, underscores)`);
	}
	return name;
}

/** A string literal for values of a known safe shape (version ids, kinds, outcomes). */
export function literal(value: string): string {
	if (!/^[A-Za-z0-9_:.\-/%]{1,128}$/.test(value)) {
		throw new Error(`refusing to put "${value}" in an SQL query: unexpected characters`);
	}
	return `'${value}'`;
}

/** `timestamp` within the window, as whole unix seconds (the SQL API's DateTime resolution). */
export function within(window: TimeWindow): string {
	const from = Math.floor(window.from.getTime() / 1000);
	const to = Math.floor(window.to.getTime() / 1000);
	return `timestamp >= toDateTime(${from}) AND timestamp < toDateTime(${to})`;
}

/** The number of events a column sum stands for: Analytics Engine samples, so weight by `_sample_interval`. */
export const COUNT = "SUM(_sample_interval)";

/** A sampled count of the rows where `condition` holds. */
export function countIf(condition: string): string {
	return `SUM(if(${condition}, _sample_interval, 0))`;
}

/** The q-quantile of a numeric column, weighted by the sample interval. */
export function quantile(q: number, column: string): string {
	return `quantileExactWeighted(${q})(${column}, _sample_interval)`;
}
