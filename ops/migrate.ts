/**
 * Applies the committed migrations in `schema/migrations/` with Drizzle's migrator, the same
 * files and the same bookkeeping table (`drizzle.__drizzle_migrations`) everywhere: production
 * (a Neon or any Postgres URL), `npm start`'s embedded database, and the tests.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import { migrate as migratePgFiles } from "drizzle-orm/node-postgres/migrator";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePgliteFiles } from "drizzle-orm/pglite/migrator";
import pg from "pg";

export const MIGRATIONS_FOLDER = fileURLToPath(new URL("../schema/migrations", import.meta.url));

/** A connected `pg` client, or an error that says which server failed and what to check. */
export async function connectPostgres(url: string): Promise<pg.Client> {
	const client = new pg.Client({ connectionString: url });
	try {
		await client.connect();
	} catch (error) {
		throw new Error(
			`could not connect to ${redact(url)}: ${(error as Error).message}. Check DATABASE_URL and that the server is up.`,
		);
	}
	return client;
}

/**
 * Refuses a database whose ledger tables exist without any migration of this system recorded:
 * the original CricAlgo platform's (its `users` already exist, so the first migration would stop
 * at its first statement). `ops adopt` takes such a database over and records the baseline.
 */
async function refuseUnadopted(client: pg.Client, url: string): Promise<void> {
	const { rows } = await client.query<{ users: boolean; recorded: boolean }>(
		`SELECT to_regclass('public.users') IS NOT NULL AS users,
			to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS recorded`,
	);
	if (rows[0]?.users && !rows[0].recorded) {
		throw new Error(
			`${redact(url)} already has a users table but no migration of this system recorded: it is the original CricAlgo platform's database (or another application's). Adopt it first: npm run ops -- adopt --url <it> prints the plan, --apply carries it out (docs/cutover.md).`,
		);
	}
}

/** Applies pending migrations to the Postgres at `url` (postgres:// or postgresql://). */
export async function migratePostgres(url: string): Promise<void> {
	const client = await connectPostgres(url);
	try {
		await refuseUnadopted(client, url);
		await migratePgFiles(drizzlePg({ client }), { migrationsFolder: MIGRATIONS_FOLDER });
	} finally {
		await client.end();
	}
}

/** Applies pending migrations to an embedded database. */
export async function migratePglite(db: PGlite): Promise<void> {
	await migratePgliteFiles(drizzlePglite({ client: db }), { migrationsFolder: MIGRATIONS_FOLDER });
}

/** A connection string fit to print: the password is replaced. */
export function redact(url: string): string {
	try {
		const u = new URL(url);
		if (u.password) u.password = "****";
		return u.toString();
	} catch {
		return "(unparseable connection string)";
	}
}
