/**
 * The settings and counters of the fault proxy (fault-proxy.ts), without any Node import, so
 * tests running inside workerd can share the types.
 *
 * @module
 */

export interface FaultSettings {
	/** Share of requests answered with an error, never forwarded (0..1). */
	errorRate: number;
	/** Share of requests held for `hangMs`, then forwarded and their answer thrown away. */
	timeoutRate: number;
	/** Share of requests forwarded, then answered by dropping the connection. */
	dropAfterCommitRate: number;
	/** Seed of the generator that picks faults (default 1). */
	seed?: number;
	/** How long a "timeout" request is held before it is forwarded (default 2000 ms). */
	hangMs?: number;
	/**
	 * Only requests whose body contains every one of these texts may get a fault; the others
	 * pass untouched (e.g. one message's settlement, not the test's own queries).
	 */
	onlyIfBodyIncludes?: string[];
}

export interface FaultStats {
	requests: number;
	forwarded: number;
	errors: number;
	timeouts: number;
	dropsAfterCommit: number;
	/** Requests not finished yet, forwarded late ones included. */
	inFlight: number;
}

export const NO_FAULTS: FaultSettings = { errorRate: 0, timeoutRate: 0, dropAfterCommitRate: 0 };

/** Checks settings sent to the control endpoint; the message says what is wrong. */
export function parseFaultSettings(value: unknown): FaultSettings {
	const v = (value ?? {}) as Record<string, unknown>;
	const rate = (name: string) => {
		const r = v[name] ?? 0;
		if (typeof r !== "number" || !(r >= 0 && r <= 1))
			throw new TypeError(`${name} must be a number from 0 to 1`);
		return r;
	};
	const settings: FaultSettings = {
		errorRate: rate("errorRate"),
		timeoutRate: rate("timeoutRate"),
		dropAfterCommitRate: rate("dropAfterCommitRate"),
	};
	if (settings.errorRate + settings.timeoutRate + settings.dropAfterCommitRate > 1) {
		throw new TypeError("the rates add up to more than 1");
	}
	if (v.seed !== undefined) {
		if (!Number.isInteger(v.seed)) throw new TypeError("seed must be an integer");
		settings.seed = v.seed as number;
	}
	if (v.hangMs !== undefined) {
		if (!Number.isInteger(v.hangMs) || (v.hangMs as number) < 0 || (v.hangMs as number) > 60_000) {
			throw new TypeError("hangMs must be an integer from 0 to 60000");
		}
		settings.hangMs = v.hangMs as number;
	}
	if (v.onlyIfBodyIncludes !== undefined) {
		const texts = v.onlyIfBodyIncludes;
		if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string" && t.length > 0)) {
			throw new TypeError("onlyIfBodyIncludes must be a list of non-empty strings");
		}
		settings.onlyIfBodyIncludes = texts as string[];
	}
	return settings;
}
