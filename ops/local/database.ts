/**
 * The local database behind the Neon HTTP endpoint: a real Postgres when a URL is given,
 * otherwise embedded Postgres (PGlite). Either way the named databases exist and are migrated
 * before anything is served.
 *
 * @module
 */
import pg from "pg";
import { migratePglite, migratePostgres, redact } from "../migrate";
import { pgliteBackend } from "./pglite-backend";
import { postgresBackend } from "./postgres-backend";
import type { SqlBackend } from "./sql-backend";

export interface LocalDatabase {
	backend: SqlBackend;
	/** The connection string a Worker gets for `database` (the endpoint routes by its path). */
	connectionString(database: string): string;
	/** Closes connections (and flushes the embedded database to disk). */
	close(): Promise<void>;
	/** Closes, then drops the databases this process created (real Postgres only). */
	dropCreated(): Promise<void>;
}

interface LocalDatabaseOptions {
	/** A real Postgres; its database part is ignored, `databases` are used on that server. */
	url?: string;
	/** Where PGlite keeps its files; in memory when absent. */
	dataDir?: string;
	databases: string[];
	/** Create the databases on the real server when they are missing. */
	create?: boolean;
}

async function createMissing(url: string, names: string[]): Promise<string[]> {
	const admin = new pg.Client({ connectionString: url });
	try {
		await admin.connect();
	} catch (error) {
		throw new Error(
			`could not connect to Postgres at ${redact(url)}: ${(error as Error).message}. Start the server or unset the URL to use the embedded database.`,
		);
	}
	const created: string[] = [];
	try {
		for (const name of names) {
			const { rowCount } = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
			if (!rowCount) {
				await admin.query(`CREATE DATABASE "${name}"`);
				created.push(name);
			}
		}
	} finally {
		await admin.end();
	}
	return created;
}

function withDatabase(url: string, database: string): string {
	const u = new URL(url);
	u.pathname = `/${database}`;
	return u.toString();
}

export async function openLocalDatabase(options: LocalDatabaseOptions): Promise<LocalDatabase> {
	for (const name of options.databases) {
		if (!/^[a-z0-9_]{1,63}$/.test(name)) throw new Error(`invalid database name "${name}"`);
	}
	if (options.url) {
		const url = options.url;
		const created = options.create ? await createMissing(url, options.databases) : [];
		for (const name of options.databases) await migratePostgres(withDatabase(url, name));
		const backend = postgresBackend(url);
		return {
			backend,
			connectionString: (database) => withDatabase(url, database),
			close: () => backend.close(),
			async dropCreated() {
				await backend.close();
				if (!created.length) return;
				const admin = new pg.Client({ connectionString: url });
				await admin.connect();
				try {
					for (const name of created) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
				} finally {
					await admin.end();
				}
			},
		};
	}
	const backend = pgliteBackend({ dataDir: options.dataDir });
	for (const name of options.databases) await migratePglite(await backend.instance(name));
	return {
		backend,
		// Any well-formed URL will do: the embedded endpoint only reads the database name.
		connectionString: (database) => `postgresql://cricalgo:local@localhost:5432/${database}`,
		close: () => backend.close(),
		dropCreated: () => backend.close(),
	};
}
