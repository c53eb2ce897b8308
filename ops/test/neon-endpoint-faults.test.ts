/**
 * The local Neon endpoint on a Postgres that crashes (immediate shutdown) and whose connections
 * are reset mid-transaction, under concurrent load: the endpoint process lives on, answers 503
 * while the database is gone (the Workers' retryable answer), and serves again once it is back,
 * with nothing committed twice or half.
 */
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type NeonHttpServer, startNeonHttpServer } from "../local/neon-http-server";
import { postgresBackend } from "../local/postgres-backend";
import type { SqlBackend } from "../local/sql-backend";
import { type ResetProxy, startResetProxy } from "./support/reset-proxy";
import {
	postgresBinaries,
	startThrowawayPostgres,
	type ThrowawayPostgres,
} from "./support/throwaway-postgres";

const haveServer = postgresBinaries() !== undefined;

describe.skipIf(!haveServer)("Neon endpoint when Postgres fails", () => {
	let pgServer: ThrowawayPostgres;
	let proxy: ResetProxy;
	let backend: SqlBackend;
	let endpoint: NeonHttpServer;
	let sql: ReturnType<typeof neon>;

	beforeAll(async () => {
		pgServer = await startThrowawayPostgres();
		proxy = await startResetProxy(pgServer.port);
		backend = postgresBackend(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
		endpoint = await startNeonHttpServer(backend);
		neonConfig.fetchEndpoint = endpoint.endpoint;
		sql = neon(`postgres://postgres@127.0.0.1:${proxy.port}/postgres`);
		await sql.query("CREATE TABLE credits (id int PRIMARY KEY, amount numeric NOT NULL)");
		await sql.query("CREATE TABLE totals (one int PRIMARY KEY, total numeric NOT NULL)");
		await sql.query("INSERT INTO totals VALUES (1, 0)");
	});

	afterAll(async () => {
		await endpoint?.close();
		await backend?.close();
		await proxy?.close();
		pgServer?.remove();
	});

	/**
	 * A transaction of three statements (the path that checks a client out), retried until it
	 * commits. A unique violation means an earlier attempt committed and only its answer was lost.
	 */
	async function credit(id: number, statuses: number[]): Promise<void> {
		for (let attempt = 0; attempt < 400; attempt++) {
			try {
				await sql.transaction([
					sql.query("INSERT INTO credits VALUES ($1, 1)", [id]),
					sql.query("SELECT pg_sleep(0.002)"),
					sql.query("UPDATE totals SET total = total + 1 WHERE one = 1"),
				]);
				return;
			} catch (error) {
				if ((error as { code?: string }).code === "23505") return;
				// The driver names the endpoint's HTTP status ("Server error (HTTP status 503)"); a
				// Postgres error (HTTP 400) carries a SQLSTATE instead.
				const status = /HTTP status (\d{3})/.exec(String(error))?.[1];
				statuses.push(status ? Number(status) : 400);
				await new Promise((r) => setTimeout(r, 50));
			}
		}
		throw new Error(`deposit ${id} never committed`);
	}

	async function loadWith(fault: () => Promise<void>, from: number) {
		const statuses: number[] = [];
		const ids = Array.from({ length: 300 }, (_, i) => from + i);
		let next = 0;
		const workers = Array.from({ length: 8 }, async () => {
			while (next < ids.length) await credit(ids[next++]!, statuses);
		});
		await new Promise((r) => setTimeout(r, 150));
		await fault();
		await Promise.all(workers);
		return statuses;
	}

	it("survives an immediate shutdown mid-load: 503 while it is down, every credit once after", async () => {
		const statuses = await loadWith(async () => {
			pgServer.crash();
			await new Promise((r) => setTimeout(r, 1_500));
			pgServer.start();
		}, 1);
		expect(statuses.length).toBeGreaterThan(0);
		// Only the retryable answer: never a 400 (which the consumer would take for bad data).
		expect(new Set(statuses)).toEqual(new Set([503]));
		const [row] = (await sql.query(
			"SELECT count(*)::int AS n, (SELECT total FROM totals) AS total FROM credits",
		)) as {
			n: number;
			total: string;
		}[];
		expect(row).toEqual({ n: 300, total: "300" });
	});

	it("survives connections reset mid-transaction", async () => {
		let resets = 0;
		const statuses = await loadWith(async () => {
			for (let i = 0; i < 5; i++) {
				resets += proxy.resetAll();
				await new Promise((r) => setTimeout(r, 100));
			}
		}, 1001);
		expect(resets).toBeGreaterThan(0);
		expect(statuses.length).toBeGreaterThan(0);
		expect(new Set(statuses)).toEqual(new Set([503]));
		const [row] = (await sql.query(
			"SELECT count(*)::int AS n, (SELECT total FROM totals) AS total FROM credits",
		)) as {
			n: number;
			total: string;
		}[];
		expect(row).toEqual({ n: 600, total: "600" });
	});
});
