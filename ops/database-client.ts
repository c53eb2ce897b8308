/**
 * A minimal SQL client for ops commands that read or write the ledger's database.
 *
 * Two ways in, chosen by the environment: when `NEON_HTTP_ENDPOINT` is set (the local stack,
 * the tests), the Neon driver over HTTP, exactly as the Workers reach the database; otherwise
 * `pg` over TCP, which reaches Neon as well as any other Postgres.
 *
 * @module
 */
import { createDatabase } from "../schema/client";
import { connectPostgres, redact } from "./migrate";

interface DatabaseClient {
	/** How the client connects, for messages (no secrets). */
	readonly description: string;
	query<R extends Record<string, unknown> = Record<string, unknown>>(
		text: string,
		params?: unknown[],
	): Promise<R[]>;
	close(): Promise<void>;
}

/** Opens a client for `DATABASE_URL` (pg) or through `NEON_HTTP_ENDPOINT` (Neon driver). */
export async function openDatabaseClient(env: {
	DATABASE_URL?: string;
	NEON_HTTP_ENDPOINT?: string;
}): Promise<DatabaseClient> {
	const url = env.DATABASE_URL;
	if (!url) {
		throw new Error(
			"no database given: set DATABASE_URL=postgres://user:pass@host/db (a Neon URL works as is)",
		);
	}
	if (env.NEON_HTTP_ENDPOINT) {
		const { sql } = createDatabase({ DATABASE_URL: url, NEON_HTTP_ENDPOINT: env.NEON_HTTP_ENDPOINT });
		return {
			description: `${redact(url)} through the Neon HTTP endpoint ${env.NEON_HTTP_ENDPOINT}`,
			query: async (text, params = []) => (await sql.query(text, params)) as never,
			close: async () => {},
		};
	}
	const client = await connectPostgres(url);
	return {
		description: redact(url),
		query: async (text, params = []) => (await client.query(text, params)).rows,
		close: () => client.end(),
	};
}
