/**
 * A fault-injecting stand-in for an unreliable network and database, in front of the local Neon
 * HTTP endpoint. By configurable share of requests it
 *
 * - `error`: answers without forwarding: HTTP 503, HTTP 500, or HTTP 400 with a transient
 *   SQLSTATE (40P01 deadlock, 57P01 shutdown), as Neon does;
 * - `timeout`: holds the request past the client's time limit, then forwards it anyway, so the
 *   transaction may commit after the client gave up and retried (a late duplicate);
 * - `dropAfterCommit`: forwards the request, waits for the database's answer (it committed),
 *   then drops the connection without answering: the client cannot know it succeeded.
 *
 * Choices come from a seeded generator, so a run can be replayed. Faults are set and read over
 * HTTP on the same port (`POST /__faults` with `{errorRate, timeoutRate, dropAfterCommitRate,
 * seed?, hangMs?}`, `GET /__faults`), so tests inside workerd can flip them.
 *
 * @module
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
import { type FaultSettings, type FaultStats, NO_FAULTS, parseFaultSettings } from "./fault-settings";

export type { FaultSettings, FaultStats };

export interface FaultProxy {
	/** Give this to the Neon driver (`NEON_HTTP_ENDPOINT`). */
	readonly endpoint: string;
	/** `POST` settings here, `GET` settings and counters. */
	readonly control: string;
	setFaults(settings: FaultSettings): void;
	stats(): FaultStats;
	close(): Promise<void>;
}

/** A reproducible generator of numbers in [0, 1), to pick faults from a seed. */
function seeded(seed: number): () => number {
	const rng = xoroshiro128plus(seed);
	return () => uniformFloat64(rng);
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Buffer.concat(chunks);
}

function json(res: ServerResponse, status: number, body: unknown) {
	const text = JSON.stringify(body);
	res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
	res.end(text);
}

const ERRORS: { status: number; body: unknown }[] = [
	{ status: 503, body: { message: "fault proxy: database unavailable" } },
	{ status: 500, body: { message: "fault proxy: internal error" } },
	{ status: 400, body: { message: "fault proxy: deadlock detected", code: "40P01", severity: "ERROR" } },
	{
		status: 400,
		body: { message: "fault proxy: terminating connection due to administrator command", code: "57P01" },
	},
];

/**
 * Starts the proxy on 127.0.0.1 (port 0 picks a free one) in front of `target`, a Neon HTTP
 * endpoint URL. It starts without faults unless `faults` says otherwise.
 */
export function startFaultProxy(
	target: string,
	options: { port?: number; faults?: FaultSettings } = {},
): Promise<FaultProxy> {
	let settings: FaultSettings = options.faults ?? NO_FAULTS;
	let random = seeded(settings.seed ?? 1);
	const counters: FaultStats = {
		requests: 0,
		forwarded: 0,
		errors: 0,
		timeouts: 0,
		dropsAfterCommit: 0,
		inFlight: 0,
	};
	const setFaults = (next: FaultSettings) => {
		settings = next;
		random = seeded(next.seed ?? 1);
		Object.assign(counters, { requests: 0, forwarded: 0, errors: 0, timeouts: 0, dropsAfterCommit: 0 });
	};

	const forward = async (req: IncomingMessage, body: Buffer) => {
		const headers: Record<string, string> = {};
		for (const [name, value] of Object.entries(req.headers)) {
			if (typeof value === "string" && (name.startsWith("neon-") || name === "content-type"))
				headers[name] = value;
		}
		counters.forwarded++;
		const answer = await fetch(target, { method: "POST", headers, body: new Uint8Array(body) });
		return { status: answer.status, type: answer.headers.get("content-type"), text: await answer.text() };
	};

	const handle = async (req: IncomingMessage, res: ServerResponse) => {
		if (req.url?.startsWith("/__faults")) {
			if (req.method === "GET") return json(res, 200, { faults: settings, stats: counters });
			try {
				setFaults(parseFaultSettings(JSON.parse((await readBody(req)).toString("utf8") || "{}")));
			} catch (error) {
				return json(res, 400, { message: `bad fault settings: ${(error as Error).message}` });
			}
			return json(res, 200, { faults: settings, stats: counters });
		}
		const body = await readBody(req);
		const only = settings.onlyIfBodyIncludes;
		const text = only ? body.toString("utf8") : "";
		const spared = only !== undefined && !only.every((t) => text.includes(t));
		counters.requests++;
		// A spared request is forwarded as it is and draws nothing from the generator.
		const roll = spared ? 1 : random();
		const errorBelow = settings.errorRate;
		const timeoutBelow = errorBelow + settings.timeoutRate;
		const dropBelow = timeoutBelow + settings.dropAfterCommitRate;
		if (roll < errorBelow) {
			counters.errors++;
			const error = ERRORS[Math.floor(random() * ERRORS.length)]!;
			return json(res, error.status, error.body);
		}
		if (roll < timeoutBelow) {
			counters.timeouts++;
			await new Promise((resolve) => setTimeout(resolve, settings.hangMs ?? 2_000));
			const late = await forward(req, body).catch(() => undefined);
			// The client has given up by now; answer anyway in case it has not.
			if (!res.destroyed && late)
				res.writeHead(late.status, { "content-type": late.type ?? "" }).end(late.text);
			return;
		}
		const answer = await forward(req, body);
		if (roll < dropBelow) {
			counters.dropsAfterCommit++;
			req.socket.destroy();
			return;
		}
		res.writeHead(answer.status, { "content-type": answer.type ?? "application/json" });
		res.end(answer.text);
	};

	const server = createServer((req, res) => {
		// Control requests are not counted: a caller waits for inFlight 0 through them.
		const counted = !req.url?.startsWith("/__faults");
		if (counted) counters.inFlight++;
		handle(req, res)
			.catch((error) => {
				if (!res.headersSent) json(res, 502, { message: `fault proxy: ${String(error)}` });
				else res.destroy();
			})
			.finally(() => {
				if (counted) counters.inFlight--;
			});
	});
	server.keepAliveTimeout = 30_000;
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(options.port ?? 0, "127.0.0.1", () => {
			const { port } = server.address() as AddressInfo;
			resolve({
				endpoint: `http://127.0.0.1:${port}/sql`,
				control: `http://127.0.0.1:${port}/__faults`,
				setFaults,
				stats: () => ({ ...counters }),
				close: () =>
					new Promise<void>((done) => {
						server.closeAllConnections();
						server.close(() => done());
					}),
			});
		});
	});
}
