/**
 * The local Neon HTTP endpoint, driven by the real `@neondatabase/serverless` driver exactly as
 * the Workers drive it, on both backends: embedded PGlite, and real Postgres when
 * TEST_DATABASE_URL is set.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type NeonHttpServer, startNeonHttpServer } from "../local/neon-http-server";
import { pgliteBackend } from "../local/pglite-backend";
import { postgresBackend } from "../local/postgres-backend";
import type { SqlBackend } from "../local/sql-backend";

type Case = { name: string; backend: () => SqlBackend; url: () => string };
const cases: Case[] = [
	{ name: "PGlite", backend: () => pgliteBackend(), url: () => "postgresql://u:p@localhost/scratch" },
];
if (process.env.TEST_DATABASE_URL) {
	cases.push({
		name: "Postgres",
		backend: () => postgresBackend(inject("databaseUrls").node),
		url: () => inject("databaseUrls").node,
	});
}

describe.each(cases)("Neon HTTP endpoint on $name", ({ backend: makeBackend, url }) => {
	let server: NeonHttpServer;
	let backend: SqlBackend;
	let sql: ReturnType<typeof neon>;
	const table = `scratch_${process.pid}_${Math.floor(Math.random() * 1e6)}`;

	beforeAll(async () => {
		backend = makeBackend();
		server = await startNeonHttpServer(backend);
		neonConfig.fetchEndpoint = server.endpoint;
		sql = neon(url());
		await sql.query(`CREATE TABLE ${table} (id int PRIMARY KEY, amount numeric(30,8), note text)`);
	});

	afterAll(async () => {
		await sql?.query(`DROP TABLE IF EXISTS ${table}`);
		await server?.close();
		await backend?.close();
	});

	it("returns values parsed by the driver as with Neon", async () => {
		const [row] = (await sql.query(
			`SELECT 1::int AS i, 12345678901234.12345678::numeric(30,8) AS n, true AS b, '{"a":[1,2]}'::jsonb AS j,
			        '2026-01-02T03:04:05Z'::timestamptz AS t, NULL::text AS nothing, ARRAY['x','y']::text[] AS arr,
			        $1::bytea AS bytes, $2::text AS quoted`,
			[new Uint8Array([0, 255, 7]), "O'Reilly; DROP TABLE users; --"],
		)) as Record<string, unknown>[];
		expect(row).toEqual({
			i: 1,
			n: "12345678901234.12345678",
			b: true,
			j: { a: [1, 2] },
			t: new Date("2026-01-02T03:04:05Z"),
			nothing: null,
			arr: ["x", "y"],
			bytes: expect.anything(),
			quoted: "O'Reilly; DROP TABLE users; --",
		});
		expect(Array.from(row?.bytes as Uint8Array)).toEqual([0, 255, 7]);
	});

	it("runs a transaction atomically and reports the Postgres error", async () => {
		const error = await sql
			.transaction([
				sql.query(`INSERT INTO ${table} (id, amount) VALUES (1, '1.5')`),
				sql.query(`INSERT INTO ${table} (id, amount) VALUES (1, '2.5')`),
			])
			.catch((e: unknown) => e);
		expect(error).toMatchObject({ code: "23505", constraint: `${table}_pkey` });
		expect(await sql.query(`SELECT count(*)::int AS n FROM ${table}`)).toEqual([{ n: 0 }]);

		const results = await sql.transaction([
			sql.query(`INSERT INTO ${table} (id, amount) VALUES (2, '0.00000001') RETURNING amount`),
			sql.query(`SELECT sum(amount) AS total FROM ${table}`),
		]);
		expect(results).toEqual([[{ amount: "0.00000001" }], [{ total: "0.00000001" }]]);
	});

	it("honours the transaction options the driver sends as headers", async () => {
		const results = (await sql.transaction([sql.query("SHOW transaction_isolation")], {
			isolationLevel: "Serializable",
		})) as Record<string, string>[][];
		expect(results[0]?.[0]).toEqual({ transaction_isolation: "serializable" });
		const readOnly = await sql
			.transaction([sql.query(`INSERT INTO ${table} (id) VALUES (3)`)], { readOnly: true })
			.catch((e: unknown) => e);
		expect(readOnly).toMatchObject({ code: "25006" });
	});

	it("refuses several statements in one query, as Neon does", async () => {
		const error = await sql.query("SELECT 1; SELECT 2").catch((e: unknown) => e);
		expect(error).toMatchObject({ code: "42601" });
	});
});

describe("Neon HTTP endpoint with its database down", () => {
	it("answers with a server error, which callers treat as retryable", async () => {
		// Nothing listens on port 1: the backend cannot connect.
		const backend = postgresBackend("postgres://postgres@127.0.0.1:1/postgres");
		const server = await startNeonHttpServer(backend);
		try {
			neonConfig.fetchEndpoint = server.endpoint;
			const error = await neon("postgresql://u:p@localhost/db")
				.query("SELECT 1")
				.catch((e: unknown) => e);
			expect(String(error)).toMatch(/HTTP status 503.*database unavailable/);
		} finally {
			await server.close();
			await backend.close();
		}
	});
});
