/**
 * `npm run bench:intake`: the full intake Worker against a bare one (HMAC verify + `queue.send`
 * + 202, load/bench/bare-worker.js), under the same open-model load on 127.0.0.1, in one run.
 *
 * Each Worker runs in its own Miniflare (workerd) with its own local queue, drained by a
 * consumer that acks everything, so both pay the same queue costs. The edge Worker is bundled
 * exactly as it deploys (`wrangler deploy --dry-run`) with its bindings from wrangler.toml.
 * Rounds alternate bare, full, bare, full, so a machine whose load drifts affects both alike, and
 * the figures compared are medians over the rounds of each round's full-against-bare comparison.
 *
 * Two phases:
 * - latency: a rate well below either Worker's capacity; p50 / p99 there show what the full
 *   intake adds to each request (target: under 2 ms at p50);
 * - throughput: a rate above capacity, in-flight bounded; 2xx answers per second show capacity
 *   (target: full >= 90 % of bare).
 * The last line is `ratio: <full/bare throughput>` (the median of the rounds' ratios).
 *
 * Options (flags or environment): --latency-rate (BENCH_LATENCY_RATE, default 200 req/s),
 * --throughput-rate (BENCH_THROUGHPUT_RATE, 2500 req/s), --seconds (BENCH_SECONDS, 2 per round),
 * --rounds (BENCH_ROUNDS, 5 per Worker and phase), --max-in-flight (BENCH_MAX_IN_FLIGHT, 128).
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { convertV4MiniflareOptions, Miniflare, type V4WorkerOptions } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { LOCAL_WEBHOOK_SECRET } from "../../ops/local/defaults";
import { wranglerEnv, wranglerScript } from "../../ops/local/wrangler";
import { type SignedRequest, signWebhook } from "../../ops/webhook-signing";
import { type OpenModelReport, percentile, runOpenModel } from "../lib/open-model";

// wrangler must not reach the internet; the bench gives the secrets itself, so silence the notice.
process.env.WRANGLER_SEND_METRICS = "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED = "false";
process.env.WRANGLER_LOG ??= "error";

const BUNDLE_DIR = ".tmp/bench-edge";
const BARE_WORKER = fileURLToPath(new URL("./bare-worker.js", import.meta.url));
/** A queue consumer that acks every message, so neither queue grows during the run. */
const SINK = "export default { async queue(batch) { batch.ackAll(); } };";

type Target = { name: "bare" | "full"; url: string; dispose: () => Promise<void> };

function options() {
	const { values } = parseArgs({
		options: {
			"latency-rate": { type: "string", default: process.env.BENCH_LATENCY_RATE ?? "200" },
			"throughput-rate": { type: "string", default: process.env.BENCH_THROUGHPUT_RATE ?? "2500" },
			seconds: { type: "string", default: process.env.BENCH_SECONDS ?? "2" },
			rounds: { type: "string", default: process.env.BENCH_ROUNDS ?? "5" },
			"max-in-flight": { type: "string", default: process.env.BENCH_MAX_IN_FLIGHT ?? "128" },
		},
	});
	const numbers = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));
	for (const [name, value] of Object.entries(numbers)) {
		if (!(value > 0))
			throw new Error(`--${name} must be a positive number (got ${values[name as keyof typeof values]})`);
	}
	return {
		latencyRate: numbers["latency-rate"]!,
		throughputRate: numbers["throughput-rate"]!,
		seconds: numbers.seconds!,
		rounds: Math.round(numbers.rounds!),
		maxInFlight: Math.round(numbers["max-in-flight"]!),
	};
}

function bundleEdgeWorker() {
	const result = spawnSync(
		process.execPath,
		[wranglerScript(), "deploy", "--dry-run", "--outdir", BUNDLE_DIR, "-c", "wrangler.toml"],
		{ encoding: "utf8", env: wranglerEnv({ WRANGLER_LOG: "error" }) },
	);
	if (result.status !== 0) {
		throw new Error(
			`could not bundle the edge Worker (wrangler deploy --dry-run):\n${result.stderr}${result.stdout}`,
		);
	}
}

async function start(name: Target["name"]): Promise<Target> {
	// The edge Worker's bindings and compatibility settings, exactly as wrangler.toml declares them.
	// Its module rules are for wrangler's own bundling: the bundle here is already one module.
	const { modulesRules: _rules, ...edge } = unstable_getMiniflareWorkerOptions("wrangler.toml")
		.workerOptions as V4WorkerOptions;
	const common = {
		compatibilityDate: edge.compatibilityDate,
		compatibilityFlags: edge.compatibilityFlags,
		queueProducers: { DEPOSITS: { queueName: "deposits" } },
	};
	const worker: V4WorkerOptions =
		name === "full"
			? {
					...edge,
					...common,
					name: "intake",
					modules: true,
					scriptPath: `${BUNDLE_DIR}/index.js`,
					bindings: {
						...(edge.bindings as Record<string, unknown>),
						WEBHOOK_SECRETS: LOCAL_WEBHOOK_SECRET,
						DATABASE_URL: "postgres://unused@127.0.0.1:1/unused",
						JWT_SECRET: "bench-only-jwt-secret-0123456789abcdef0123456789",
					},
				}
			: {
					...common,
					name: "intake",
					modules: true,
					scriptPath: BARE_WORKER,
					bindings: { WEBHOOK_SECRET: LOCAL_WEBHOOK_SECRET },
				};
	const mf = new Miniflare(
		convertV4MiniflareOptions({
			host: "127.0.0.1",
			port: 0,
			workers: [
				worker,
				{
					name: "sink",
					modules: true,
					script: SINK,
					compatibilityDate: edge.compatibilityDate,
					queueConsumers: { deposits: { maxBatchSize: 100, maxBatchTimeout: 0.05 } },
				},
			],
		}),
	);
	const url = (await mf.ready).toString().replace(/\/$/, "");
	return { name, url, dispose: () => mf.dispose() };
}

/** Fresh deposits, signed now, one per request: timestamps stay well inside ±300 s. */
function signedRequests(count: number): SignedRequest[] {
	return Array.from({ length: count }, () =>
		signWebhook(LOCAL_WEBHOOK_SECRET, {
			tx_hash: `0x${randomBytes(32).toString("hex")}`,
			confirmations: 12,
			chain: "bep20",
			to_address: `0x${randomBytes(20).toString("hex")}`,
			amount: "20.5",
			currency: "USDT",
			status: "confirmed",
			block_number: 41_234_567,
			metadata: { source: "bench" },
		}),
	);
}

async function load(target: Target, label: string, rate: number, seconds: number, maxInFlight: number) {
	const total = Math.max(1, Math.round(rate * seconds));
	const requests = signedRequests(total);
	const endpoint = `${target.url}/api/v1/webhooks/bep20`;
	let lastPrint = 0;
	return runOpenModel(
		async (i) => {
			const { headers, body } = requests[i]!;
			const res = await fetch(endpoint, { method: "POST", headers, body });
			await res.arrayBuffer();
			return res;
		},
		{
			rate,
			total,
			maxInFlight,
			timeoutMs: 10_000,
			onProgress: (done, all) => {
				const now = Date.now();
				if (now - lastPrint < 1000 && done < all) return;
				lastPrint = now;
				process.stdout.write(`  … ${label} ${target.name}: ${done}/${all}\n`);
			},
		},
	);
}

/** Merges the rounds of one Worker: throughput over their summed time, percentiles over all answers. */
function merge(reports: OpenModelReport[]) {
	const ok = reports.flatMap((r) => r.results.filter((x) => x.status >= 200 && x.status < 300));
	const latencies = ok.map((r) => r.latencyMs).sort((a, b) => a - b);
	const durationMs = reports.reduce((sum, r) => sum + r.durationMs, 0);
	const errors = new Map<string, number>();
	for (const r of reports.flatMap((x) => x.results)) {
		const key = r.error ?? (r.status >= 300 || r.status < 200 ? `HTTP ${r.status}` : "");
		if (key) errors.set(key, (errors.get(key) ?? 0) + 1);
	}
	return {
		ok: ok.length,
		failures: reports.reduce((sum, r) => sum + r.failures, 0),
		throughput: (ok.length / durationMs) * 1000,
		p50: percentile(latencies, 50),
		p95: percentile(latencies, 95),
		p99: percentile(latencies, 99),
		errors,
	};
}

const ms = (value: number) => `${value.toFixed(2)} ms`;

function describe(name: string, m: ReturnType<typeof merge>) {
	const errors = [...m.errors].map(([k, n]) => `${n}× ${k}`).join(", ");
	return `  ${name}: ${m.ok} ok, ${m.failures} failed, ${m.throughput.toFixed(0)} req/s, p50 ${ms(m.p50)}, p95 ${ms(m.p95)}, p99 ${ms(m.p99)}${errors ? ` (${errors})` : ""}`;
}

/** Median of a few numbers: one disturbed round (a neighbour's burst of CPU) does not move it. */
function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = Math.floor(sorted.length / 2);
	return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs `rounds` rounds, each loading bare then full back to back, and summarises each Worker
 * over all its rounds plus the per-round comparisons (full against the bare run just before it).
 */
async function phase(
	targets: [Target, Target],
	label: string,
	rate: number,
	seconds: number,
	rounds: number,
	maxInFlight: number,
) {
	const runs: { bare: OpenModelReport; full: OpenModelReport }[] = [];
	for (let round = 1; round <= rounds; round++) {
		const name = `${label} round ${round}/${rounds}`;
		const bare = await load(targets[0], name, rate, seconds, maxInFlight);
		const full = await load(targets[1], name, rate, seconds, maxInFlight);
		runs.push({ bare, full });
	}
	return {
		bare: merge(runs.map((r) => r.bare)),
		full: merge(runs.map((r) => r.full)),
		/** full/bare throughput of each round. */
		ratios: runs.map((r) => r.full.throughput / r.bare.throughput),
		/** full − bare p50 of each round, ms. */
		addedP50: runs.map((r) => r.full.p50 - r.bare.p50),
	};
}

async function main() {
	const o = options();
	console.log(
		`intake benchmark: open model on 127.0.0.1; Node ${process.version}, ${cpus().length} cores, load average ${loadavg()
			.map((l) => l.toFixed(2))
			.join(" ")}`,
	);
	console.log("bundling the edge Worker (wrangler deploy --dry-run) …");
	bundleEdgeWorker();
	console.log("starting both Workers in Miniflare, each with its own local queue …");
	const targets: [Target, Target] = [await start("bare"), await start("full")];
	const stop = async () => {
		await Promise.allSettled(targets.map((t) => t.dispose()));
	};
	process.once("SIGINT", () => void stop().then(() => process.exit(130)));
	try {
		for (const t of targets) {
			const check = signedRequests(1)[0]!;
			const res = await fetch(`${t.url}/api/v1/webhooks/bep20`, {
				method: "POST",
				headers: check.headers,
				body: check.body,
			});
			if (res.status !== 202)
				throw new Error(
					`the ${t.name} Worker answered ${res.status} to a valid webhook: ${await res.text()}`,
				);
		}
		console.log("warming up (JIT, connections) …");
		await phase(targets, "warm-up", o.latencyRate, 1.5, 1, o.maxInFlight);

		console.log(`latency phase: ${o.latencyRate} req/s × ${o.seconds} s, ${o.rounds} rounds per Worker`);
		const latency = await phase(targets, "latency", o.latencyRate, o.seconds, o.rounds, o.maxInFlight);
		console.log(
			`throughput phase: offered ${o.throughputRate} req/s × ${o.seconds} s, at most ${o.maxInFlight} in flight, ${o.rounds} rounds per Worker`,
		);
		const throughput = await phase(
			targets,
			"throughput",
			o.throughputRate,
			o.seconds,
			o.rounds,
			o.maxInFlight,
		);

		const list = (values: number[], format: (v: number) => string) => values.map(format).join(", ");
		console.log(`\nlatency phase (${o.latencyRate} req/s):`);
		console.log(describe("bare", latency.bare));
		console.log(describe("full", latency.full));
		console.log(
			`  added by the full intake at p50: ${ms(median(latency.addedP50))} (median of rounds: ${list(latency.addedP50, ms)}; target < 2 ms)`,
		);
		console.log(`throughput phase (offered ${o.throughputRate} req/s):`);
		console.log(describe("bare", throughput.bare));
		console.log(describe("full", throughput.full));
		const ratio = median(throughput.ratios);
		const percent = (v: number) => `${(v * 100).toFixed(1)} %`;
		console.log(
			`  full/bare throughput: ${percent(ratio)} (median of rounds: ${list(throughput.ratios, percent)}; target >= 90 %)`,
		);
		console.log(`ratio: ${ratio.toFixed(3)}`);
	} finally {
		await stop();
	}
}

main().catch((error) => {
	console.error(`bench:intake failed: ${error instanceof Error ? error.message : String(error)}`);
	process.exitCode = 1;
});
