/**
 * A TCP proxy in front of a Postgres server that can reset every connection through it at
 * once (TCP RST both ways), as a load balancer or a network fault does mid-query.
 *
 * @module
 */
import { createConnection, createServer, type Socket } from "node:net";

export interface ResetProxy {
	/** The port on 127.0.0.1 that forwards to the target. */
	readonly port: number;
	/** Resets every open connection; returns how many were reset. */
	resetAll(): number;
	close(): Promise<void>;
}

export function startResetProxy(targetPort: number): Promise<ResetProxy> {
	const pairs = new Set<[Socket, Socket]>();
	const server = createServer((client) => {
		const upstream = createConnection({ host: "127.0.0.1", port: targetPort });
		const pair: [Socket, Socket] = [client, upstream];
		pairs.add(pair);
		client.pipe(upstream).pipe(client);
		const drop = () => {
			pairs.delete(pair);
			client.destroy();
			upstream.destroy();
		};
		client.on("error", drop).on("close", drop);
		upstream.on("error", drop).on("close", drop);
	});
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(0, "127.0.0.1", () => {
			const address = server.address();
			resolve({
				port: typeof address === "object" && address ? address.port : 0,
				resetAll() {
					const n = pairs.size;
					for (const [client, upstream] of pairs) {
						client.resetAndDestroy();
						upstream.resetAndDestroy();
					}
					pairs.clear();
					return n;
				},
				close: () =>
					new Promise<void>((done) => {
						for (const [client, upstream] of pairs) {
							client.destroy();
							upstream.destroy();
						}
						server.close(() => done());
					}),
			});
		});
	});
}
