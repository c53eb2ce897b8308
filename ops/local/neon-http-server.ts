/**
 * Serves Neon's HTTP SQL protocol on 127.0.0.1, so the Workers' real `@neondatabase/serverless`
 * driver runs unchanged against a local Postgres (`neonConfig.fetchEndpoint` points at it).
 *
 * What the driver (1.2) sends: `POST` with JSON `{query, params}`, or `{queries: [...]}` for a
 * non-interactive transaction; headers `Neon-Connection-String` (the database is taken from its
 * path), `Neon-Raw-Text-Output`, `Neon-Array-Mode`, and `Neon-Batch-Isolation-Level`,
 * `-Read-Only`, `-Deferrable` for transactions. What it expects back: a result (or
 * `{results: [...]}`), or HTTP 400 with the Postgres error's fields; anything else it reports
 * as a server error, which our Workers treat as retryable.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
	ERROR_FIELDS,
	isPostgresError,
	type SqlBackend,
	type TransactionOptions,
	type WireQuery,
} from "./sql-backend";

const MAX_BODY_BYTES = 64 * 1024 * 1024;

export interface NeonHttpServer {
	/** The endpoint to give the driver, e.g. `http://127.0.0.1:4444/sql`. */
	readonly endpoint: string;
	readonly port: number;
	close(): Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown) {
	const text = JSON.stringify(body);
	res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
	res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
	const chunks: Buffer[] = [];
	let size = 0;
	for await (const chunk of req) {
		size += (chunk as Buffer).length;
		if (size > MAX_BODY_BYTES) throw new RangeError("request body too large");
		chunks.push(chunk as Buffer);
	}
	return Buffer.concat(chunks).toString("utf8");
}

function databaseOf(req: IncomingMessage): string {
	const header = req.headers["neon-connection-string"];
	if (typeof header !== "string") throw new TypeError("missing Neon-Connection-String header");
	const name = decodeURIComponent(new URL(header).pathname.replace(/^\//, ""));
	if (!name) throw new TypeError("the connection string names no database");
	return name;
}

function isWireQuery(q: unknown): q is WireQuery {
	return (
		typeof q === "object" &&
		q !== null &&
		typeof (q as WireQuery).query === "string" &&
		(((q as WireQuery).params ?? []) as unknown[]).every((p) => p === null || typeof p === "string")
	);
}

function transactionOptions(req: IncomingMessage): TransactionOptions {
	const h = (name: string) => {
		const v = req.headers[name];
		return typeof v === "string" ? v : undefined;
	};
	const bool = (v: string | undefined) => (v === undefined ? undefined : v === "true");
	return {
		isolationLevel: h("neon-batch-isolation-level"),
		readOnly: bool(h("neon-batch-read-only")),
		deferrable: bool(h("neon-batch-deferrable")),
	};
}

async function handle(backend: SqlBackend, req: IncomingMessage, res: ServerResponse) {
	if (req.method !== "POST") return send(res, 405, { message: "POST a query" });
	let database: string;
	let body: unknown;
	try {
		database = databaseOf(req);
		body = JSON.parse(await readBody(req));
	} catch (error) {
		return send(res, 400, { message: `bad request: ${(error as Error).message}` });
	}
	try {
		if (Array.isArray((body as { queries?: unknown }).queries)) {
			const queries = (body as { queries: unknown[] }).queries;
			if (!queries.every(isWireQuery)) return send(res, 400, { message: "malformed queries" });
			const results = await backend.transaction(
				database,
				queries.map((q) => ({ query: q.query, params: q.params ?? [] })),
				transactionOptions(req),
			);
			return send(res, 200, { results });
		}
		if (!isWireQuery(body)) return send(res, 400, { message: "malformed query" });
		return send(res, 200, await backend.query(database, { query: body.query, params: body.params ?? [] }));
	} catch (error) {
		if (isPostgresError(error)) {
			const fields: Record<string, unknown> = { message: error.message };
			for (const key of ERROR_FIELDS) if (error[key] !== undefined) fields[key] = error[key];
			return send(res, 400, fields);
		}
		// Postgres unreachable or the backend failed: a server error, which callers retry.
		return send(res, 503, { message: `database unavailable: ${(error as Error).message}` });
	}
}

/** Starts the endpoint on 127.0.0.1 (port 0 picks a free one). */
export function startNeonHttpServer(backend: SqlBackend, port = 0): Promise<NeonHttpServer> {
	const server: Server = createServer((req, res) => {
		handle(backend, req, res).catch((error) => {
			if (!res.headersSent) send(res, 500, { message: String(error) });
			else res.destroy();
		});
	});
	// Workers keep connections alive; let idle ones go quietly.
	server.keepAliveTimeout = 30_000;
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, "127.0.0.1", () => {
			const { port: bound } = server.address() as AddressInfo;
			resolve({
				endpoint: `http://127.0.0.1:${bound}/sql`,
				port: bound,
				close: () =>
					new Promise<void>((done) => {
						server.closeAllConnections();
						server.close(() => done());
					}),
			});
		});
	});
}
