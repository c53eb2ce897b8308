/**
 * Runs once before all test projects, in Node: opens the test databases (on the Postgres
 * named by TEST_DATABASE_URL, else embedded PGlite), applies the committed migrations exactly
 * as production does, serves them through the local Neon HTTP endpoint (and a fault-injecting
 * proxy in front of it), and builds the
 * consumer Worker's and the API Worker's bundles, which the edge-api project runs beside the
 * edge Worker.
 *
 * Each project gets its own database, so projects can run side by side; names carry the
 * process id, so two runs on one server do not meet. Databases this run created are dropped
 * at the end.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { openLocalDatabase } from "../ops/local/database";
import { startFaultProxy } from "../ops/local/fault-proxy";
import { startNeonHttpServer } from "../ops/local/neon-http-server";
import { wranglerEnv, wranglerScript } from "../ops/local/wrangler";
import { API_BUNDLE_DIR, CONSUMER_BUNDLE_DIR, TEST_PROJECTS, type TestProjectName } from "./projects";

declare module "vitest" {
	export interface ProvidedContext {
		/** The local Neon HTTP endpoint (`neonConfig.fetchEndpoint`). */
		neonEndpoint: string;
		/** Connection string of each project's database, for the Neon driver. */
		databaseUrls: Record<TestProjectName, string>;
		/**
		 * A fault-injecting proxy in front of `neonEndpoint` (ops/local/fault-proxy.ts), without
		 * faults until a test sets some through `control`.
		 */
		faultProxy: { endpoint: string; control: string };
	}
}

/** Bundles an auxiliary Worker as a deploy would, into `outdir` (vitest.config.ts runs it from there). */
function buildBundle(worker: string, config: string, outdir: string) {
	const result = spawnSync(
		process.execPath,
		[wranglerScript(), "deploy", "--dry-run", "--outdir", outdir, "-c", config],
		{ encoding: "utf8", env: wranglerEnv() },
	);
	if (result.status !== 0) {
		throw new Error(
			`could not bundle the ${worker} Worker (wrangler deploy --dry-run -c ${config}):\n${result.stderr}${result.stdout}`,
		);
	}
}

export default async function setup(project: TestProject) {
	const suffix = `${process.pid}`;
	const names = Object.fromEntries(
		TEST_PROJECTS.map((p) => [p, `cricalgo_test_${p.replaceAll("-", "_")}_${suffix}`]),
	) as Record<TestProjectName, string>;
	const url = process.env.TEST_DATABASE_URL || undefined;
	console.log(`test databases: ${url ? "Postgres from TEST_DATABASE_URL" : "embedded Postgres (PGlite)"}`);
	buildBundle("consumer", "queue-consumer/wrangler.toml", CONSUMER_BUNDLE_DIR);
	buildBundle("API", "api/wrangler.toml", API_BUNDLE_DIR);
	const local = await openLocalDatabase({ url, databases: Object.values(names), create: true });
	const server = await startNeonHttpServer(local.backend);
	const proxy = await startFaultProxy(server.endpoint);
	project.provide("neonEndpoint", server.endpoint);
	project.provide("faultProxy", { endpoint: proxy.endpoint, control: proxy.control });
	project.provide(
		"databaseUrls",
		Object.fromEntries(TEST_PROJECTS.map((p) => [p, local.connectionString(names[p])])) as Record<
			TestProjectName,
			string
		>,
	);
	return async () => {
		await proxy.close();
		await server.close();
		await local.dropCreated();
	};
}
