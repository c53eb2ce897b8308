/**
 * A {@link SqlBackend} on a real Postgres server, through `pg`. The database named in each
 * request's connection string is used on the server that `baseUrl` points at, so one endpoint
 * can serve several databases (tests give each project its own).
 *
 * @module
 */
import pg from "pg";
import { beginStatement, type SqlBackend, type WireQuery, type WireResult } from "./sql-backend";

// Every value comes back as the text Postgres sent: the Neon driver parses it, as with Neon.
const rawText = { getTypeParser: () => (value: string) => value };

function toWire(result: pg.QueryResult<unknown[]>): WireResult {
	return {
		fields: result.fields.map((f) => ({ ...f, format: "text" })),
		command: result.command,
		rowCount: result.rowCount,
		rows: result.rows as (string | null)[][],
		rowAsArray: true,
	};
}

function run(client: pg.Pool | pg.PoolClient, q: WireQuery) {
	// queryMode "extended": one statement per query, as Neon's HTTP endpoint allows.
	return client
		.query<unknown[]>({
			text: q.query,
			values: q.params,
			rowMode: "array",
			types: rawText,
			queryMode: "extended",
		} as pg.QueryArrayConfig)
		.then(toWire);
}

export function postgresBackend(baseUrl: string, options: { poolSize?: number } = {}): SqlBackend {
	const pools = new Map<string, pg.Pool>();
	const base = new URL(baseUrl);
	const pool = (database: string) => {
		let p = pools.get(database);
		if (!p) {
			const url = new URL(base);
			url.pathname = `/${database}`;
			p = new pg.Pool({ connectionString: url.toString(), max: options.poolSize ?? 10 });
			// An idle client that loses its connection must not crash the endpoint.
			p.on("error", () => {});
			pools.set(database, p);
		}
		return p;
	};
	return {
		description: `Postgres at ${base.host}`,
		query: (database, q) => run(pool(database), q),
		async transaction(database, queries, options) {
			const client = await pool(database).connect();
			// A checked-out client has no listener of the pool's: a server crash or a reset
			// connection would be an unhandled 'error' event and kill the whole process. Here it
			// fails this transaction (the endpoint answers 503, the Workers retry) and the
			// broken client is destroyed instead of going back to the pool.
			let broken: Error | undefined;
			const onError = (error: Error) => {
				broken = error;
			};
			client.on("error", onError);
			try {
				await client.query(beginStatement(options));
				const results: WireResult[] = [];
				for (const q of queries) results.push(await run(client, q));
				await client.query("COMMIT");
				return results;
			} catch (error) {
				if (!broken) await client.query("ROLLBACK").catch(() => {});
				throw error;
			} finally {
				client.off("error", onError);
				client.release(broken);
			}
		},
		async close() {
			await Promise.all([...pools.values()].map((p) => p.end()));
			pools.clear();
		},
	};
}
