/**
 * An open-model load generator: requests start at a fixed arrival rate, whether or not earlier
 * ones have finished, as real webhook senders behave. (A closed model, N connections each
 * waiting for its answer, slows down with the server and hides its queueing.)
 *
 * Latency is measured from each request's *scheduled* start, not from when the generator got
 * round to it, so a generator that falls behind shows up in the figures instead of hiding
 * them (no coordinated omission). When `maxInFlight` requests are already waiting, a due
 * request is not sent: it is recorded as dropped (status 0), as k6's arrival-rate executors do.
 *
 * @module
 */

interface OpenModelOptions {
	/** Arrivals per second. */
	rate: number;
	/** Requests in all: the run is bounded in count, and so in time (`total / rate`). */
	total: number;
	/** Requests allowed in flight at once; a due request beyond it is dropped. Default 1024. */
	maxInFlight?: number;
	/** A request still unanswered after this long counts as failed (status 0). Default 10,000 ms. */
	timeoutMs?: number;
	/** Called as requests finish (at most about ten times a second, and once at the end). */
	onProgress?: (done: number, total: number) => void;
}

interface RequestResult {
	/** Index of the request, 0-based, in arrival order. */
	i: number;
	/** HTTP status, or 0 when there was none (error, timeout, dropped). */
	status: number;
	/** From the scheduled start to the answer, ms. */
	latencyMs: number;
	/** Scheduled start, ms after the run began. */
	startedAt: number;
	error?: string;
}

export interface OpenModelReport {
	results: RequestResult[];
	/** From the first scheduled start to the last answer, ms. */
	durationMs: number;
	/** Successful (2xx) answers per second over `durationMs`. */
	throughput: number;
	/** Latency percentiles of the successful answers, ms. */
	p50: number;
	p95: number;
	p99: number;
	/** Answers that were not 2xx, errors, timeouts and dropped requests. */
	failures: number;
}

/**
 * The value at percentile `p` (0-100) of ascending `sortedValues`, by the nearest-rank method;
 * NaN for no values.
 *
 * @example
 * ```ts
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(sortedValues: number[], p: number): number {
	if (sortedValues.length === 0) return Number.NaN;
	// Nearest rank. Multiply before dividing and allow for float error: (99.9 / 100) * 1000 is
	// 999.0000000000001, whose ceiling would pick the wrong rank.
	const rank = Math.ceil((p * sortedValues.length) / 100 - 1e-9);
	return sortedValues[Math.min(sortedValues.length, Math.max(1, rank)) - 1]!;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
	let timer: ReturnType<typeof setTimeout> | undefined;
	const timeout = new Promise<never>((_, reject) => {
		timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
	});
	return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Sends `total` requests at `rate` per second through `send(i)` and reports what came back.
 *
 * @example
 * ```ts
 * const report = await runOpenModel((i) => fetch(url, requests[i]), { rate: 500, total: 5000 });
 * console.log(report.throughput, report.p50, report.p99);
 * ```
 */
export async function runOpenModel(
	send: (i: number) => Promise<{ status: number }>,
	options: OpenModelOptions,
): Promise<OpenModelReport> {
	const { rate, total } = options;
	if (!(rate > 0) || !Number.isInteger(total) || total < 0) {
		throw new Error(`runOpenModel needs rate > 0 and a whole total >= 0 (got rate ${rate}, total ${total})`);
	}
	const maxInFlight = options.maxInFlight ?? 1024;
	const timeoutMs = options.timeoutMs ?? 10_000;
	const results: RequestResult[] = new Array(total);
	const interval = 1000 / rate;
	const began = performance.now();
	let inFlight = 0;
	let done = 0;
	let lastProgress = 0;
	const pending: Promise<void>[] = [];

	const finish = (result: RequestResult) => {
		results[result.i] = result;
		done++;
		const now = performance.now();
		if (options.onProgress && (now - lastProgress >= 100 || done === total)) {
			lastProgress = now;
			options.onProgress(done, total);
		}
	};

	const start = (i: number) => {
		const startedAt = i * interval;
		if (inFlight >= maxInFlight) {
			finish({
				i,
				status: 0,
				latencyMs: 0,
				startedAt,
				error: `dropped: ${maxInFlight} requests already in flight`,
			});
			return;
		}
		inFlight++;
		pending.push(
			withTimeout(
				Promise.resolve().then(() => send(i)),
				timeoutMs,
			).then(
				(res) => {
					inFlight--;
					finish({ i, status: res.status, latencyMs: performance.now() - began - startedAt, startedAt });
				},
				(error: unknown) => {
					inFlight--;
					const message = error instanceof Error ? error.message : String(error);
					finish({
						i,
						status: 0,
						latencyMs: performance.now() - began - startedAt,
						startedAt,
						error: message,
					});
				},
			),
		);
	};

	// Start every request that is due, then sleep until the next one is. Timers are coarse
	// (about 1 ms), so at high rates several requests start per wake-up, each timed from its own
	// scheduled instant.
	let next = 0;
	while (next < total) {
		const elapsed = performance.now() - began;
		while (next < total && next * interval <= elapsed) start(next++);
		if (next < total)
			await new Promise((resolve) => setTimeout(resolve, Math.max(0, next * interval - elapsed)));
	}
	await Promise.all(pending);

	// Every answer is in by now, so this spans the first scheduled start to the last answer.
	const durationMs = performance.now() - began;
	const ok = results.filter((r) => r.status >= 200 && r.status < 300);
	const latencies = ok.map((r) => r.latencyMs).sort((a, b) => a - b);
	return {
		results,
		durationMs,
		throughput: durationMs > 0 ? (ok.length / durationMs) * 1000 : 0,
		p50: percentile(latencies, 50),
		p95: percentile(latencies, 95),
		p99: percentile(latencies, 99),
		failures: total - ok.length,
	};
}
