/**
 * The three Workers' bundles stay small: each is built exactly as a deploy builds it
 * (`wrangler deploy --dry-run`, the committed wrangler.toml: minified, without keep-names) and
 * its size is wrangler's own "Total Upload", the figure the README quotes. A Worker's startup
 * CPU grows with its bundle, and a heavy import (zod's classic API, a whole chain library)
 * lands here first: this test names the figure that grew.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { wranglerEnv, wranglerScript } from "../local/wrangler";

/**
 * Budgets, in KiB as wrangler reports them, each what the Worker weighs now plus a little, so
 * that it can only come down.
 *
 * - The edge (113 KiB when the intake became a Worker of its own: webhooks, signatures, the body
 *   contract, zod/mini, hono, the replay guard) holds no database driver: every route that needs
 *   the database is the API Worker's. Its budget of 120 keeps it there.
 * - The consumer meets the 400 KiB target with room.
 * - The API Worker (458 KiB) carries the Neon driver's prebuilt, already minified module, 143 KiB
 *   that no bundler can shrink (node-postgres and its Node shims come with the HTTP client),
 *   with the operators' console (55), the account and admin routes (45), the alert rules the
 *   watch page evaluates (21), bcryptjs (19) and the OpenAPI document (10). It does not start on
 *   the deposit path: the edge accepts webhooks without it.
 */
const BUDGETS_KIB = { edge: 120, api: 465, consumer: 400 } as const;
const CONFIGS = {
	edge: "wrangler.toml",
	api: "api/wrangler.toml",
	consumer: "queue-consumer/wrangler.toml",
} as const;

type Worker = keyof typeof CONFIGS;

const outRoot = await mkdtemp(join(tmpdir(), "bundle-size-"));
afterAll(() => rm(outRoot, { recursive: true, force: true }));

/** Bundles one Worker the way a deploy does and returns wrangler's printed sizes. */
function dryRun(worker: Worker): Promise<{ kib: number; gzipKib: number; outdir: string }> {
	const outdir = join(outRoot, worker);
	return new Promise((resolve, reject) => {
		const child = spawn(
			process.execPath,
			[wranglerScript(), "deploy", "--dry-run", "--env=", "--outdir", outdir, "-c", CONFIGS[worker]],
			{ env: wranglerEnv({ WRANGLER_LOG: "log" }), stdio: ["ignore", "pipe", "pipe"] },
		);
		let output = "";
		child.stdout.on("data", (chunk) => {
			output += chunk;
		});
		child.stderr.on("data", (chunk) => {
			output += chunk;
		});
		child.on("error", reject);
		child.on("close", (code) => {
			const sizes = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
			if (code !== 0 || !sizes) {
				reject(
					new Error(`wrangler deploy --dry-run -c ${CONFIGS[worker]} failed (exit ${code}):\n${output}`),
				);
				return;
			}
			resolve({ kib: Number(sizes[1]), gzipKib: Number(sizes[2]), outdir });
		});
	});
}

// The bundles are built at once: a dry run takes a few seconds, mostly wrangler's own start.
const builds = { edge: dryRun("edge"), api: dryRun("api"), consumer: dryRun("consumer") };
// A failed build is reported by the tests that await it, not as an unhandled rejection first.
for (const build of Object.values(builds)) build.catch(() => {});

describe.each(Object.keys(CONFIGS) as Worker[])("the %s Worker's bundle", (worker) => {
	it(`is at most its budget (${BUDGETS_KIB[worker]} KiB as wrangler reports it)`, {
		timeout: 120_000,
	}, async () => {
		const { kib, gzipKib, outdir } = await builds[worker];
		console.log(`${worker}: ${kib} KiB, gzip ${gzipKib} KiB (budget ${BUDGETS_KIB[worker]} KiB)`);
		expect(kib, `${worker} bundle in KiB`).toBeLessThanOrEqual(BUDGETS_KIB[worker]);
		// The figure is the bundle's: the module wrangler wrote is that size (within rounding).
		const written = (await readFile(join(outdir, "index.js"))).byteLength / 1024;
		expect(Math.abs(written - kib)).toBeLessThan(1);
	});

	it("is minified and carries no zod locale but English", { timeout: 120_000 }, async () => {
		const code = await readFile(join((await builds[worker]).outdir, "index.js"), "utf8");
		// A line per statement would mean the minifier is off (wrangler.toml's `minify`).
		expect(code.split("\n").length).toBeLessThan(2_000);
		// `import { z } from "zod"` brings its 40-odd locales (German: "Ungültige Eingabe", written
		// escaped); schema/zod.ts brings only English.
		expect(code).not.toContain("Eingabe");
		expect(code).toContain("Invalid input: expected");
	});
});

describe("the edge Worker's bundle", () => {
	it("holds no database driver: the intake accepts deposits with the database down", {
		timeout: 120_000,
	}, async () => {
		const code = await readFile(join((await builds.edge).outdir, "index.js"), "utf8");
		// What the Neon driver's module always carries (its error class, the header naming the
		// connection, its package name), and which the API Worker's bundle does hold.
		const api = await readFile(join((await builds.api).outdir, "index.js"), "utf8");
		for (const mark of ["NeonDbError", "Neon-Connection-String", "neondatabase"]) {
			expect(api, `the API bundle's ${mark}`).toContain(mark);
			expect(code, `the edge bundle's ${mark}`).not.toContain(mark);
		}
	});
});
