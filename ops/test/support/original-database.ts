/**
 * A database of the original CricAlgo platform for a Node test, on the Postgres server named by
 * TEST_DATABASE_URL (`ops adopt` talks to a Postgres server, so these tests need one): created
 * under a name of its own, built and seeded by the fixture (test/fixtures/cricalgo-original),
 * dropped by `drop()`.
 *
 * @module
 */
import pg from "pg";
import {
	type OriginalSeed,
	type SeedQuery,
	seedOriginalDatabase,
} from "../../../test/fixtures/cricalgo-original/seed";

export interface OriginalDatabase {
	url: string;
	seed: OriginalSeed;
	/** A query on the database (one connection, kept until `drop`). */
	query: SeedQuery;
	drop(): Promise<void>;
}

let counter = 0;

/** An empty database of its own on the test server (for greenfield cases). */
export async function createEmptyDatabase(
	label: string,
): Promise<{ url: string; query: SeedQuery; drop(): Promise<void> }> {
	const base = process.env.TEST_DATABASE_URL;
	if (!base) throw new Error("TEST_DATABASE_URL is not set: these tests need a Postgres server");
	counter++;
	const name = `cricalgo_test_${label}_${process.pid}_${counter}`;
	const admin = new pg.Client({ connectionString: base });
	await admin.connect();
	await admin.query(`CREATE DATABASE ${name}`);
	const url = new URL(base);
	url.pathname = `/${name}`;
	const client = new pg.Client({ connectionString: url.toString() });
	await client.connect();
	return {
		url: url.toString(),
		query: async (text, params) => (await client.query(text, params)).rows,
		async drop() {
			await client.end().catch(() => {});
			await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
			await admin.end();
		},
	};
}

/** The original's schema, seeded the original's way, in a database of its own. */
export async function createOriginalDatabase(label: string): Promise<OriginalDatabase> {
	const db = await createEmptyDatabase(label);
	try {
		return { ...db, seed: await seedOriginalDatabase(db.query) };
	} catch (error) {
		await db.drop();
		throw error;
	}
}
