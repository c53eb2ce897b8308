/**
 * The worker thread behind the k6 stand-in's blocking HTTP: k6's `http.get` / `http.batch`
 * return answers synchronously, Node's `fetch` does not, so synckit runs these fetches here and
 * blocks the caller until they are done. A network failure is status 0 with the error, as k6
 * reports it.
 *
 * @module
 */
import { runAsWorker } from "synckit";

export interface SyncRequest {
	method: string;
	url: string;
	headers: Record<string, string>;
	body: string | null;
	timeoutMs: number;
}

export interface SyncResponse {
	status: number;
	headers: Record<string, string>;
	body: string;
	durationMs: number;
	error: string;
}

async function send(request: SyncRequest): Promise<SyncResponse> {
	const started = performance.now();
	try {
		const res = await fetch(request.url, {
			method: request.method,
			headers: request.headers,
			body: request.body,
			signal: AbortSignal.timeout(request.timeoutMs),
		});
		const body = await res.text();
		const headers: Record<string, string> = {};
		res.headers.forEach((value, name) => {
			headers[name] = value;
		});
		return {
			status: res.status,
			headers,
			body,
			durationMs: performance.now() - started,
			error: "",
		};
	} catch (error) {
		return {
			status: 0,
			headers: {},
			body: "",
			durationMs: performance.now() - started,
			error: String(error),
		};
	}
}

runAsWorker((requests: SyncRequest[]) => Promise.all(requests.map(send)));
