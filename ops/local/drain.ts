/**
 * The drained stop's wait: until every deposit the edge accepted (202) is in the ledger, as a
 * user would check it. A deposit counts as settled when its `deposits` row has seen at least
 * the confirmations its webhook reported (or is no longer pending), or when it is in
 * `dead_letters`; anything else is still on the local queue, which dies with the process.
 *
 * @module
 */
import type { SqlBackend } from "./sql-backend";

const CHUNK = 5_000;

/** Of `accepted`, the tx_ids the ledger does not hold yet (as text arrays to the SQL). */
async function unsettled(
	backend: SqlBackend,
	database: string,
	accepted: [string, number | null][],
): Promise<string[]> {
	const missing: string[] = [];
	for (let i = 0; i < accepted.length; i += CHUNK) {
		const chunk = accepted.slice(i, i + CHUNK);
		const result = await backend.query(database, {
			query: `SELECT a.id::text FROM unnest($1::uuid[], $2::int[]) AS a(id, conf)
				WHERE NOT EXISTS (
					SELECT 1 FROM deposits d
					WHERE d.id = a.id AND (a.conf IS NULL OR d.confirmations >= a.conf OR d.status <> 'pending'))
				AND NOT EXISTS (SELECT 1 FROM dead_letters l WHERE l.tx_id = a.id)`,
			params: [
				`{${chunk.map(([id]) => id).join(",")}}`,
				`{${chunk.map(([, conf]) => (conf === null ? "NULL" : String(conf))).join(",")}}`,
			],
		});
		for (const row of result.rows) if (row[0]) missing.push(row[0]);
	}
	return missing;
}

export interface DrainResult {
	/** Accepted deposits the ledger held at the end. */
	settled: number;
	/** Accepted deposits still missing (empty when the drain completed). */
	missing: string[];
	/** Set when the database could not be asked at the last look. */
	lastError?: string;
}

/**
 * Waits (polling every `intervalMs`) until the ledger holds every accepted deposit, or
 * `timeoutMs` passed, or `signal` aborts. Settled deposits are removed from `accepted`.
 */
export async function waitForLedger(
	backend: SqlBackend,
	database: string,
	accepted: Map<string, number | null>,
	options: {
		timeoutMs: number;
		intervalMs?: number;
		signal?: AbortSignal;
		onProgress?: (line: string) => void;
	},
): Promise<DrainResult> {
	const total = accepted.size;
	const started = Date.now();
	let lastError: string | undefined;
	let missing = [...accepted.keys()];
	for (;;) {
		try {
			missing = await unsettled(backend, database, [...accepted]);
			lastError = undefined;
			const still = new Set(missing);
			for (const id of accepted.keys()) if (!still.has(id)) accepted.delete(id);
		} catch (error) {
			lastError = (error as Error).message;
		}
		const elapsed = Math.round((Date.now() - started) / 1000);
		const bound = Math.round(options.timeoutMs / 1000);
		if (missing.length === 0) {
			options.onProgress?.(`drained: all ${total} deposits accepted since start are in the ledger`);
			return { settled: total, missing };
		}
		options.onProgress?.(
			`draining: ${missing.length} of ${total} accepted deposits not yet in the ledger (${elapsed} s of at most ${bound} s)${
				lastError ? `; the database did not answer: ${lastError}` : ""
			}`,
		);
		if (Date.now() - started >= options.timeoutMs || options.signal?.aborted) {
			return { settled: total - missing.length, missing, lastError };
		}
		await new Promise<void>((resolve) => {
			const timer = setTimeout(resolve, options.intervalMs ?? 1_000);
			options.signal?.addEventListener(
				"abort",
				() => {
					clearTimeout(timer);
					resolve();
				},
				{ once: true },
			);
		});
	}
}
