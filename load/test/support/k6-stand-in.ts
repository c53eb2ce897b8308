/**
 * A stand-in for the k6 runtime, for CI, where there is no k6 (it is in neither registry): it
 * runs the k6 script's bundle (`npm run k6:bundle`'s esbuild options, as CommonJS) through the
 * lifecycle k6 gives it, and refuses every k6 API outside the contexts where k6 allows it, with
 * k6's own messages (from k6's source, internal/js/modules/k6/...):
 *
 * | API                                   | init | setup | VU code | teardown | handleSummary |
 * | ------------------------------------- | ---- | ----- | ------- | -------- | ------------- |
 * | `http.*` requests, `check()`          | no   | yes   | yes     | yes      | yes           |
 * | `new Counter/Gauge/Rate/Trend`        | yes  | no    | no      | no       | no            |
 * | `metric.add()`                        | no   | yes   | yes     | yes      | yes           |
 * | `exec.scenario`                       | no   | no    | yes     | no       | no            |
 * | `exec.instance`                       | no   | yes   | yes     | no       | no            |
 * | `exec.vu`, `exec.test.options`        | no   | yes   | yes     | yes      | yes           |
 *
 * (k6 runs setup() with the execution state in its context, teardown() and handleSummary()
 * without it, hence `exec.instance`.) Each part runs in a VU of its own, a fresh V8 context
 * that evaluates the init code again, as in k6, so state set in setup() is not visible to VU
 * code except through setup's returned data (copied as JSON).
 *
 * What it does not pretend to be: a load generator. A scenario's schedule is not kept; the load
 * scenario runs the given number of iterations one after another in one VU, numbered from 0,
 * and the settlement scenario its one iteration after it, with the instance counters k6 would
 * report. HTTP is real (blocking requests, through a worker thread), so the script talks to a
 * real stack. Thresholds are evaluated as k6's metrics/thresholds.go does: a rate with no
 * samples has no value and passes; an empty counter, gauge or trend reads 0.
 *
 * @module
 */
import { createHash, createHmac } from "node:crypto";
import { fileURLToPath } from "node:url";
import vm from "node:vm";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { createSyncFn } from "synckit";
import type { SyncRequest, SyncResponse } from "./sync-http-worker";

export type Phase = "init" | "setup" | "vu" | "teardown" | "summary";
type MetricType = "counter" | "gauge" | "rate" | "trend";

interface Sample {
	metric: string;
	value: number;
	tags: Record<string, string>;
}

interface ThresholdResult {
	metric: string;
	expression: string;
	ok: boolean;
	/** Samples of the (sub)metric: 0 means k6 judged it on nothing. */
	samples: number;
}

interface StandInOptions {
	/** The script as one CommonJS bundle. */
	code: string;
	env: Record<string, string>;
	/** Iterations the load scenario runs (in place of its schedule). */
	loadIterations: number;
	/** Scenarios not to run, as if the run stopped before them. */
	skipScenarios?: string[];
	/** k6's `--vus N --duration D` flags, which replace the script's scenarios. */
	cliShortcut?: { vus: number; duration: string };
}

export interface StandInRun {
	/** The consolidated options (after a CLI shortcut, as k6 would run them). */
	options: { scenarios: Record<string, Record<string, unknown>>; thresholds?: Record<string, string[]> };
	samples: Sample[];
	logs: { level: string; text: string }[];
	/** A k6 API used where k6 refuses it, in any part of the run. */
	violations: string[];
	/** Exceptions that ended an iteration (k6 logs them and goes on). */
	iterationErrors: string[];
	/** What stopped the run early or made it exit with a script error, if anything. */
	failure: string | null;
	thresholds: ThresholdResult[];
	/** handleSummary's files, by name (stdout included). */
	summary: Record<string, string> | null;
	/** As k6's: 0, 99 (thresholds failed) or 107 (script exception in setup or teardown). */
	exitCode: number;
}

const BUILTIN: Record<string, MetricType> = {
	http_reqs: "counter",
	http_req_duration: "trend",
	http_req_failed: "rate",
	checks: "rate",
	iterations: "counter",
	dropped_iterations: "counter",
};

let syncFetch: ((requests: SyncRequest[]) => SyncResponse[]) | undefined;
function fetchBlocking(requests: SyncRequest[]): SyncResponse[] {
	syncFetch ??= createSyncFn(fileURLToPath(new URL("./sync-http-worker.ts", import.meta.url)), {
		timeout: 120_000,
	});
	return syncFetch(requests);
}

function blockFor(seconds: number) {
	Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Math.max(0, seconds * 1000));
}

/** "90s", "1m30s", "500ms" in seconds. */
function seconds(duration: unknown): number {
	if (typeof duration === "number") return duration / 1000;
	const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
	return (String(duration ?? "0s").match(/\d+(?:\.\d+)?(?:ms|s|m|h)/g) ?? []).reduce((sum, part) => {
		const [, n, u] = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part) as RegExpExecArray;
		return sum + Number(n) * (unit[u as string] as number);
	}, 0);
}

/** Header names as k6 gives them (Go's canonical form): `retry-after` → `Retry-After`. */
const canonical = (name: string) =>
	name.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());

function bytesOf(input: unknown): Buffer {
	if (typeof input === "string") return Buffer.from(input, "utf8");
	if (input instanceof ArrayBuffer || Object.prototype.toString.call(input) === "[object ArrayBuffer]") {
		return Buffer.from(input as ArrayBuffer);
	}
	if (ArrayBuffer.isView(input)) return Buffer.from(input.buffer, input.byteOffset, input.byteLength);
	throw new TypeError(`k6/crypto: unsupported input ${Object.prototype.toString.call(input)}`);
}

function encodeDigest(digest: Buffer, encoding: string): string | ArrayBuffer {
	switch (encoding) {
		case "binary":
			return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength) as ArrayBuffer;
		case "hex":
			return digest.toString("hex");
		case "base64":
			return digest.toString("base64");
		case "base64url":
			return digest.toString("base64url").padEnd(Math.ceil(digest.length / 3) * 4, "=");
		case "base64rawurl":
			return digest.toString("base64url");
		default:
			throw new Error(`k6/crypto: unsupported output encoding ${encoding}`);
	}
}

/** A k6-style percentile (linear interpolation, as k6's TrendSink.P). */
function percentile(sorted: number[], p: number): number {
	if (sorted.length === 0) return 0;
	const i = p * (sorted.length - 1);
	const lo = sorted[Math.floor(i)] as number;
	const hi = sorted[Math.ceil(i)] as number;
	return lo + (hi - lo) * (i - Math.floor(i));
}

/** Runs a k6 script through k6's lifecycle; see the module header. */
export function runK6StandIn(options: StandInOptions): StandInRun {
	const samples: Sample[] = [];
	const logs: StandInRun["logs"] = [];
	const violations: string[] = [];
	const iterationErrors: string[] = [];
	const types = new Map<string, MetricType>(Object.entries(BUILTIN));
	const trendStats = new Map<string, boolean>();
	const counters = { completed: 0, interrupted: 0, active: 0 };
	const startedAt = Date.now();
	let consolidated: StandInRun["options"] | undefined;
	let vuIds = 0;

	function newVu() {
		const id = vuIds++;
		const state = {
			phase: "init" as Phase,
			scenario: null as null | { name: string; executor: string; startTime: number; iteration: number },
		};
		const refuse = (message: string): never => {
			const text = `${message} (k6 refuses this in ${state.phase === "vu" ? "VU code" : `${state.phase}()`})`;
			violations.push(text);
			throw new Error(text);
		};
		const allowed = (phases: Phase[], message: string) => {
			if (!phases.includes(state.phase)) refuse(message);
		};
		const record = (metric: string, value: number, tags: Record<string, string> = {}) => {
			samples.push({
				metric,
				value,
				tags: { ...(state.scenario ? { scenario: state.scenario.name } : {}), ...tags },
			});
		};

		const metricClass = (type: MetricType) =>
			class {
				readonly name: string;
				constructor(name: string, isTime = false) {
					allowed(["init"], "metrics must be declared in the init context");
					const known = types.get(name);
					if (known && known !== type) {
						throw new Error(`metric '${name}' already exists but with type ${known}, instead of ${type}`);
					}
					types.set(name, type);
					if (type === "trend") trendStats.set(name, isTime);
					this.name = name;
				}
				add(value: unknown, tags?: Record<string, string>) {
					allowed(
						["setup", "vu", "teardown", "summary"],
						"Adding to metrics in the init context is not supported",
					);
					record(this.name, type === "rate" ? (value ? 1 : 0) : Number(value), tags);
					return true;
				}
			};

		const request = (items: [string, string, unknown, Record<string, unknown> | undefined][]) => {
			allowed(
				["setup", "vu", "teardown", "summary"],
				"Making http requests in the init context is not supported",
			);
			const answers = fetchBlocking(
				items.map(([method, url, body, params]) => ({
					method,
					url,
					headers: (params?.headers as Record<string, string>) ?? {},
					body: body === null || body === undefined ? null : String(body),
					timeoutMs: params?.timeout ? seconds(params.timeout) * 1000 : 60_000,
				})),
			);
			return answers.map((a, k) => {
				const params = items[k]?.[3];
				const expected = (params?.responseCallback as { expected?: number[] } | undefined)?.expected;
				const ok = expected ? expected.includes(a.status) : a.status >= 200 && a.status < 400;
				const tags = {
					...((params?.tags as Record<string, string>) ?? {}),
					method: items[k]?.[0] ?? "",
					status: String(a.status),
					expected_response: String(ok),
				};
				record("http_reqs", 1, tags);
				record("http_req_duration", a.durationMs, tags);
				record("http_req_failed", ok ? 0 : 1, tags);
				if (a.error) logs.push({ level: "warn", text: `Request Failed: ${a.error}` });
				return {
					status: a.status,
					body: a.error ? null : a.body,
					error: a.error,
					headers: Object.fromEntries(Object.entries(a.headers).map(([n, v]) => [canonical(n), v])),
					timings: { duration: a.durationMs },
					json(selector?: string) {
						const doc = JSON.parse(a.body) as Record<string, unknown>;
						return selector
							? selector.split(".").reduce<unknown>((v, key) => (v as Record<string, unknown>)?.[key], doc)
							: doc;
					},
				};
			});
		};
		const asItem = (r: unknown): [string, string, unknown, Record<string, unknown> | undefined] =>
			Array.isArray(r)
				? [r[0], r[1], r[2], r[3]]
				: [
						(r as { method: string }).method,
						(r as { url: string }).url,
						(r as { body?: unknown }).body,
						(r as { params?: Record<string, unknown> }).params,
					];

		const http = {
			get: (url: string, params?: Record<string, unknown>) => request([["GET", url, null, params]])[0],
			post: (url: string, body: unknown, params?: Record<string, unknown>) =>
				request([["POST", url, body, params]])[0],
			request: (method: string, url: string, body: unknown, params?: Record<string, unknown>) =>
				request([[method, url, body, params]])[0],
			batch: (requests: unknown[]) => request(requests.map(asItem)),
			expectedStatuses: (...statuses: number[]) => ({ expected: statuses }),
		};
		const k6 = {
			check(value: unknown, sets: Record<string, (v: unknown) => unknown>, tags?: Record<string, string>) {
				allowed(["setup", "vu", "teardown", "summary"], "Using check() in the init context is not supported");
				let all = true;
				for (const [name, fn] of Object.entries(sets)) {
					const passed = Boolean(fn(value));
					all &&= passed;
					record("checks", passed ? 1 : 0, { check: name, ...tags });
				}
				return all;
			},
			sleep: blockFor,
		};
		const exec = {
			get scenario() {
				if (state.phase !== "vu" || !state.scenario) {
					refuse("getting scenario information outside of the VU context is not supported");
				}
				const s = state.scenario as NonNullable<typeof state.scenario>;
				return {
					name: s.name,
					executor: s.executor,
					startTime: s.startTime,
					progress: 0,
					iterationInInstance: s.iteration,
					iterationInTest: s.iteration,
				};
			},
			get instance() {
				allowed(["setup", "vu"], "getting instance information in the init context is not supported");
				return {
					iterationsCompleted: counters.completed,
					iterationsInterrupted: counters.interrupted,
					vusActive: counters.active,
					vusInitialized: vuIds,
					currentTestRunDuration: Date.now() - startedAt,
				};
			},
			get vu() {
				allowed(
					["setup", "vu", "teardown", "summary"],
					"getting VU information in the init context is not supported",
				);
				return {
					idInInstance: id,
					idInTest: id,
					iterationInInstance: state.scenario?.iteration ?? 0,
					iterationInScenario: state.scenario?.iteration ?? 0,
				};
			},
			test: {
				get options() {
					allowed(
						["setup", "vu", "teardown", "summary"],
						"getting test options in the init context is not supported",
					);
					const copy = JSON.parse(JSON.stringify(consolidated)) as Record<string, unknown>;
					for (const gone of ["vus", "iterations", "duration", "stages"]) delete copy[gone];
					return copy;
				},
				abort(reason?: string): never {
					throw new Error(`test aborted: ${reason ?? ""}`);
				},
			},
		};
		const crypto = {
			sha1: (input: unknown, encoding: string) =>
				encodeDigest(createHash("sha1").update(bytesOf(input)).digest(), encoding),
			sha256: (input: unknown, encoding: string) =>
				encodeDigest(createHash("sha256").update(bytesOf(input)).digest(), encoding),
			hmac: (algorithm: string, key: unknown, input: unknown, encoding: string) =>
				encodeDigest(createHmac(algorithm, bytesOf(key)).update(bytesOf(input)).digest(), encoding),
		};
		const encoding = {
			b64decode(input: string, variant = "std", format?: "s") {
				const bytes = Buffer.from(input, variant === "url" || variant === "rawurl" ? "base64url" : "base64");
				return format === "s"
					? bytes.toString("utf8")
					: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
			},
		};
		// Named and default exports; getters (exec.scenario, …) stay getters, read only when used.
		const asModule = (value: object) =>
			Object.defineProperties({ __esModule: true, default: value }, Object.getOwnPropertyDescriptors(value));
		const modules: Record<string, unknown> = {
			k6: asModule(k6),
			"k6/http": asModule(http),
			"k6/execution": asModule(exec),
			"k6/crypto": asModule(crypto),
			"k6/encoding": asModule(encoding),
			"k6/metrics": asModule({
				Counter: metricClass("counter"),
				Gauge: metricClass("gauge"),
				Rate: metricClass("rate"),
				Trend: metricClass("trend"),
			}),
		};
		const log =
			(level: string) =>
			(...args: unknown[]) =>
				logs.push({
					level,
					text: args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "),
				});
		const module = { exports: {} as Record<string, unknown> };
		const context = vm.createContext({
			module,
			exports: module.exports,
			require: (name: string) => {
				if (!(name in modules)) throw new Error(`k6 has no module "${name}" here`);
				return modules[name];
			},
			__ENV: { ...options.env },
			__VU: id,
			console: {
				log: log("info"),
				info: log("info"),
				warn: log("warn"),
				error: log("error"),
				debug: log("debug"),
			},
		});
		new vm.Script(options.code, { filename: "deposits.js" }).runInContext(context);
		return { state, exports: module.exports };
	}

	const result = (failure: string | null, summary: Record<string, string> | null, teardownFailed = false) => {
		const thresholds = evaluate(consolidated?.thresholds ?? {});
		const exitCode = failure || teardownFailed ? 107 : thresholds.some((t) => !t.ok) ? 99 : 0;
		return {
			options: consolidated as StandInRun["options"],
			samples,
			logs,
			violations,
			iterationErrors,
			failure,
			thresholds,
			summary,
			exitCode,
		} satisfies StandInRun;
	};

	const matching = (key: string) => {
		const m = /^([^{]+)(?:\{(.*)\})?$/.exec(key) as RegExpExecArray;
		const filter = (m[2] ?? "")
			.split(",")
			.filter(Boolean)
			.map((pair) => pair.split(":") as [string, string]);
		const name = m[1] as string;
		return {
			name,
			values: samples
				.filter((s) => s.metric === name && filter.every(([k, v]) => s.tags[k] === v))
				.map((s) => s.value),
		};
	};
	const sinkOf = (type: MetricType, values: number[], stats: string[]) => {
		const out: Record<string, number> = {};
		const duration = (Date.now() - startedAt) / 1000;
		if (type === "counter") {
			out.count = values.reduce((a, b) => a + b, 0);
			out.rate = out.count / duration;
		} else if (type === "gauge") {
			out.value = values.at(-1) ?? 0;
			out.min = values.length ? Math.min(...values) : 0;
			out.max = values.length ? Math.max(...values) : 0;
		} else if (type === "rate") {
			out.passes = values.filter(Boolean).length;
			out.fails = values.length - out.passes;
			if (values.length) out.rate = out.passes / values.length;
		} else {
			const sorted = [...values].sort((a, b) => a - b);
			out.count = values.length;
			out.min = sorted[0] ?? 0;
			out.max = sorted.at(-1) ?? 0;
			out.avg = values.length ? values.reduce((a, b) => a + b, 0) / values.length : 0;
			out.med = percentile(sorted, 0.5);
			for (const stat of stats) {
				const p = /^p\(([\d.]+)\)$/.exec(stat);
				if (p) out[stat] = percentile(sorted, Number(p[1]) / 100);
			}
		}
		return out;
	};
	function evaluate(thresholds: Record<string, string[]>): ThresholdResult[] {
		return Object.entries(thresholds).flatMap(([key, expressions]) => {
			const { name, values } = matching(key);
			const type = types.get(name);
			if (!type)
				throw new Error(`a threshold names metric ${name}, which nothing declares (k6 refuses to start)`);
			return expressions.map((expression) => {
				const m = /^([a-z]+(?:\([\d.]+\))?)\s*(<=|>=|===|==|!=|<|>)\s*(-?[\d.]+)$/.exec(expression);
				if (!m) throw new Error(`threshold ${key}: cannot parse "${expression}"`);
				const lhs = sinkOf(type, values, [m[1] as string])[m[1] as string];
				const rhs = Number(m[3]);
				const ops: Record<string, (a: number, b: number) => boolean> = {
					"<": (a, b) => a < b,
					"<=": (a, b) => a <= b,
					">": (a, b) => a > b,
					">=": (a, b) => a >= b,
					"==": (a, b) => a === b,
					"===": (a, b) => a === b,
					"!=": (a, b) => a !== b,
				};
				// k6: a value the sink cannot give (a rate of nothing) passes.
				const ok =
					lhs === undefined ? true : (ops[m[2] as string] as (a: number, b: number) => boolean)(lhs, rhs);
				return { metric: key, expression, ok, samples: values.length };
			});
		});
	}
	function summaryData(thresholds: ThresholdResult[], trendStatsWanted: string[]) {
		const keys = new Set([...new Set(samples.map((s) => s.metric)), ...thresholds.map((t) => t.metric)]);
		const metrics: Record<string, unknown> = {};
		for (const key of keys) {
			const { name, values } = matching(key);
			const type = types.get(name) as MetricType;
			const own = thresholds.filter((t) => t.metric === key);
			metrics[key] = {
				type,
				contains: trendStats.get(name) || name === "http_req_duration" ? "time" : "default",
				values: sinkOf(type, values, trendStatsWanted),
				...(own.length
					? { thresholds: Object.fromEntries(own.map((t) => [t.expression, { ok: t.ok }])) }
					: {}),
			};
		}
		return {
			metrics,
			state: { testRunDurationMs: Date.now() - startedAt, isStdOutTTY: false, isStdErrTTY: false },
		};
	}

	// init, once for the options (k6 does this before any VU)
	const optionsVu = newVu();
	consolidated = JSON.parse(JSON.stringify(optionsVu.exports.options ?? {})) as StandInRun["options"];
	if (options.cliShortcut) {
		// k6: duration / vus given at a higher tier replace every scenario of the script's options.
		consolidated.scenarios = {
			default: {
				executor: "constant-vus",
				vus: options.cliShortcut.vus,
				duration: options.cliShortcut.duration,
				exec: "default",
			},
		};
	}

	// setup()
	let data: string | undefined;
	const setupVu = newVu();
	if (typeof setupVu.exports.setup === "function") {
		setupVu.state.phase = "setup";
		try {
			data = JSON.stringify((setupVu.exports.setup as () => unknown)() ?? null);
		} catch (error) {
			return result(`setup() failed: ${(error as Error).message}`, null);
		}
	}

	// the scenarios, by start time
	const scenarios = Object.entries(consolidated.scenarios ?? {}).sort(
		([, a], [, b]) => seconds(a.startTime) - seconds(b.startTime),
	);
	for (const [name, scenario] of scenarios) {
		if (options.skipScenarios?.includes(name)) continue;
		const vu = newVu();
		const fnName = String(scenario.exec ?? "default");
		const fn = vu.exports[fnName];
		if (typeof fn !== "function") {
			return result(
				`scenario ${name}: the script exports no function "${fnName}" (k6 refuses to start)`,
				null,
			);
		}
		const fixed = scenario.executor === "per-vu-iterations" || scenario.executor === "shared-iterations";
		const iterations = fixed
			? Number(scenario.iterations ?? 1) *
				(scenario.executor === "per-vu-iterations" ? Number(scenario.vus ?? 1) : 1)
			: options.loadIterations;
		vu.state.phase = "vu";
		vu.state.scenario = { name, executor: String(scenario.executor), startTime: Date.now(), iteration: 0 };
		counters.active = 1;
		for (let i = 0; i < iterations; i++) {
			vu.state.scenario.iteration = i;
			try {
				(fn as (d: unknown) => void)(data === undefined ? undefined : JSON.parse(data));
				counters.completed++;
			} catch (error) {
				counters.interrupted++;
				iterationErrors.push(`${name}: ${(error as Error).message}`);
				logs.push({ level: "error", text: `${(error as Error).message} at ${fnName}` });
			}
			samples.push({ metric: "iterations", value: 1, tags: { scenario: name } });
		}
		counters.active = 0;
	}

	// teardown()
	let teardownFailed = false;
	const teardownVu = newVu();
	if (typeof teardownVu.exports.teardown === "function") {
		teardownVu.state.phase = "teardown";
		try {
			(teardownVu.exports.teardown as (d: unknown) => void)(
				data === undefined ? undefined : JSON.parse(data),
			);
		} catch (error) {
			teardownFailed = true;
			logs.push({ level: "error", text: `${(error as Error).message} at teardown` });
		}
	}

	// handleSummary()
	let summary: Record<string, string> | null = null;
	const summaryVu = newVu();
	if (typeof summaryVu.exports.handleSummary === "function") {
		summaryVu.state.phase = "summary";
		const wanted = (optionsVu.exports.options as { summaryTrendStats?: string[] } | undefined)
			?.summaryTrendStats ?? ["avg", "min", "med", "max", "p(90)", "p(95)"];
		const files = (summaryVu.exports.handleSummary as (d: unknown) => Record<string, unknown>)(
			summaryData(evaluate(consolidated.thresholds ?? {}), wanted),
		);
		summary = Object.fromEntries(Object.entries(files).map(([k, v]) => [k, String(v)]));
	}
	return result(null, summary, teardownFailed);
}

/** The same run on a worker thread: the calling thread's event loop keeps serving meanwhile. */
export function runK6StandInThread(options: StandInOptions): Promise<StandInRun> {
	return new Promise((resolve, reject) => {
		const worker = new Worker(new URL(import.meta.url), { workerData: { k6StandIn: options } });
		worker.once("message", resolve);
		worker.once("error", reject);
		worker.once("exit", (code) => reject(new Error(`the k6 stand-in's thread exited with code ${code}`)));
	});
}

if (!isMainThread && (workerData as { k6StandIn?: StandInOptions } | null)?.k6StandIn) {
	parentPort?.postMessage(runK6StandIn((workerData as { k6StandIn: StandInOptions }).k6StandIn));
}
