/**
 * `ops migrate`: applies the committed migrations to `DATABASE_URL` (or `--url`).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { migratePostgres, redact } from "../migrate";
import type { Command } from "./command";

export const migrate: Command = {
	summary: "apply the committed database migrations to DATABASE_URL",
	help: `usage: npm run ops -- migrate [--url <postgres-url>]

Applies the SQL migrations in schema/migrations/ that the database has not seen yet, in order,
and records them in drizzle.__drizzle_migrations. Safe to run again.

  --url   Postgres connection string (default: $DATABASE_URL). A Neon URL works as is.`,
	async run(args) {
		const { values } = parseArgs({ args, options: { url: { type: "string" } } });
		const url = values.url ?? process.env.DATABASE_URL;
		if (!url) {
			throw new Error("no database given: set DATABASE_URL or pass --url postgres://user:pass@host/db");
		}
		console.log(`applying migrations to ${redact(url)} …`);
		await migratePostgres(url);
		console.log("migrations applied");
		return 0;
	},
};
