/**
 * The local stack's front door: it owns the public edge port and forwards every request to
 * `wrangler dev` on a private port. It exists for the drained stop. Miniflare's local queue
 * lives in memory, so what it holds when the process ends is gone; the gate therefore
 *
 * - remembers every deposit the edge Worker answered 202 for (its `tx_id` and the
 *   confirmations the webhook reported), so a stop can wait until each is in the ledger;
 * - closes intake on request: from then on every request that could enqueue (anything but
 *   GET, HEAD and OPTIONS) is answered 503 with Retry-After, the answer senders already retry,
 *   while requests under way finish.
 *
 * @module
 */
import { Agent, createServer, request as httpRequest, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** A deposit the edge accepted (202): the ledger must hold it before the stack stops. */
interface AcceptedDeposit {
	txId: string;
	/** The confirmations the accepted webhook reported; null when it said none. */
	confirmations: number | null;
}

export interface IntakeGate {
	readonly port: number;
	/** Deposits accepted since start, by tx_id (the highest confirmations reported). */
	readonly accepted: Map<string, number | null>;
	/** From now on, requests that could enqueue get 503 + Retry-After. */
	closeIntake(retryAfterSeconds: number): void;
	/** Resolves when no forwarded request is under way. */
	idle(): Promise<void>;
	close(): Promise<void>;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The deposits a webhook answer lists: `{tx_id}` (our format) or `{deposits: [{tx_id, confirmations}]}`. */
function acceptedDeposits(requestBody: string, answer: string): AcceptedDeposit[] {
	let parsed: { tx_id?: unknown; deposits?: unknown };
	try {
		parsed = JSON.parse(answer);
	} catch {
		return [];
	}
	if (Array.isArray(parsed.deposits)) {
		return parsed.deposits.flatMap((d: { tx_id?: unknown; confirmations?: unknown }) =>
			typeof d?.tx_id === "string"
				? [{ txId: d.tx_id, confirmations: typeof d.confirmations === "number" ? d.confirmations : null }]
				: [],
		);
	}
	if (typeof parsed.tx_id !== "string") return [];
	let confirmations: number | null = null;
	try {
		const sent = JSON.parse(requestBody) as { confirmations?: unknown };
		const n = typeof sent.confirmations === "string" ? Number(sent.confirmations) : sent.confirmations;
		if (typeof n === "number" && Number.isInteger(n)) confirmations = n;
	} catch {
		// The Worker accepted it, so it parsed; nothing more to learn here.
	}
	return [{ txId: parsed.tx_id, confirmations }];
}

function refuse(res: ServerResponse, retryAfterSeconds: number) {
	const body = JSON.stringify({
		ok: false,
		error: {
			code: "stopping",
			message: "the local stack is stopping and takes no new requests; retry later",
		},
	});
	res.writeHead(503, {
		"content-type": "application/json",
		"retry-after": String(retryAfterSeconds),
		"content-length": Buffer.byteLength(body),
		connection: "close",
	});
	res.end(body);
}

/** Starts the gate on 127.0.0.1:`port`, forwarding to the Workers on 127.0.0.1:`targetPort`. */
export function startIntakeGate(port: number, targetPort: number): Promise<IntakeGate> {
	const accepted = new Map<string, number | null>();
	const agent = new Agent({ keepAlive: true, maxSockets: 256 });
	let retryAfter: number | undefined;
	let inFlight = 0;
	let waiters: (() => void)[] = [];
	const settleOne = () => {
		inFlight--;
		if (inFlight === 0) {
			for (const w of waiters) w();
			waiters = [];
		}
	};

	const remember = (requestBody: Buffer[], answer: Buffer[]) => {
		const sent = Buffer.concat(requestBody).toString("utf8");
		for (const d of acceptedDeposits(sent, Buffer.concat(answer).toString("utf8"))) {
			const known = accepted.get(d.txId);
			// The highest count reported: the ledger must have seen at least that.
			accepted.set(
				d.txId,
				known == null || d.confirmations == null
					? (known ?? d.confirmations)
					: Math.max(known, d.confirmations),
			);
		}
	};

	const server: Server = createServer((req, res) => {
		if (retryAfter !== undefined && !SAFE_METHODS.has(req.method ?? "GET")) {
			req.resume();
			return refuse(res, retryAfter);
		}
		inFlight++;
		let done = false;
		const finish = () => {
			if (done) return;
			done = true;
			settleOne();
		};
		const isWebhook = req.method === "POST" && (req.url ?? "").startsWith("/api/v1/webhooks/");
		const requestBody: Buffer[] = [];
		const upstream = httpRequest(
			{
				host: "127.0.0.1",
				port: targetPort,
				method: req.method,
				path: req.url,
				// Uncompressed answers, so the gate can read the tx_ids of a 202.
				headers: { ...req.headers, "accept-encoding": "identity" },
				agent,
			},
			(answer) => {
				res.writeHead(answer.statusCode ?? 502, answer.headers);
				const body: Buffer[] = [];
				const track = isWebhook && answer.statusCode === 202;
				answer.on("data", (chunk: Buffer) => {
					if (track) body.push(chunk);
					res.write(chunk);
				});
				answer.on("end", () => {
					// Remembered before the sender sees the end of the 202, so a stop that begins
					// after it counts this deposit.
					if (track) remember(requestBody, body);
					res.end();
					finish();
				});
				answer.on("error", () => {
					res.destroy();
					finish();
				});
			},
		);
		upstream.on("error", (error) => {
			if (!res.headersSent) {
				const body = JSON.stringify({
					ok: false,
					error: {
						code: "workers_unavailable",
						message: `the local Workers did not answer: ${error.message}`,
					},
				});
				res.writeHead(503, { "content-type": "application/json", "retry-after": "5" });
				res.end(body);
			} else res.destroy();
			finish();
		});
		req.on("data", (chunk: Buffer) => {
			if (isWebhook) requestBody.push(chunk);
			upstream.write(chunk);
		});
		req.on("end", () => upstream.end());
		req.on("error", () => {
			upstream.destroy();
			finish();
		});
		res.on("close", finish);
	});
	server.keepAliveTimeout = 30_000;
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => {
			server.off("error", reject);
			const { port: bound } = server.address() as AddressInfo;
			resolve({
				port: bound,
				accepted,
				closeIntake(seconds) {
					retryAfter = seconds;
				},
				idle: () => (inFlight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
				close: () =>
					new Promise<void>((done) => {
						agent.destroy();
						server.closeAllConnections();
						server.close(() => done());
					}),
			});
		});
	});
}
