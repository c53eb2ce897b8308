/**
 * Which way imports go (README, "Where things live"). Every relative import in the tree is
 * checked against the rules below, so a Worker reaching into another Worker, a tool reaching into
 * a Worker's `src/`, or production code leaning on test support fails here, with the file and
 * the rule it breaks.
 *
 * - The floor (`schema/`, `shared/`) imports only the floor.
 * - A Worker (`worker/`, `api/`, `queue-consumer/`, `alerts/`) imports itself and the floor: the
 *   edge and the API Worker share what they both need through `shared/`, never each other's files.
 * - The tools (`ops/`, `load/`) import themselves, each other and the floor; of the Workers only
 *   the consumer's declared entry, `queue-consumer/engine.ts`.
 * - Test code (any `test/` or `test-browser/` folder, `*.test.ts`, `vitest.config.ts`) may also
 *   use its own part's internals, the tools as harnesses, and test support; never another
 *   Worker's internals. Nothing else imports test code.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(import.meta.dirname, "..");
const FLOOR = new Set(["schema", "shared"]);
const WORKERS = new Set(["worker", "api", "queue-consumer", "alerts"]);
const TOOLS = new Set(["ops", "load"]);
/** The one file of a Worker that code outside it may import. */
const WORKER_ENTRIES = new Set(["queue-consumer/engine.ts"]);
const SOURCE = /\.(ts|tsx|js|mjs)$/;
const SKIPPED_DIRS = new Set(["node_modules", ".git", ".data", ".tmp", ".wrangler", "dist"]);

/** The part a repository path belongs to: its top-level folder, or "" for root files. */
function partOf(file: string): string {
	return file.includes("/") ? file.slice(0, file.indexOf("/")) : "";
}

function isTestCode(file: string): boolean {
	return (
		/(^|\/)(test|test-browser)\//.test(file) || /\.test\.tsx?$/.test(file) || file === "vitest.config.ts"
	);
}

/** Why `from` may not import `to` (both repository paths), or null when it may. */
function importViolation(from: string, to: string): string | null {
	const source = partOf(from);
	const target = partOf(to);
	if (to.startsWith("../")) return "names a file outside the repository";
	if (isTestCode(to) && !isTestCode(from)) return "only tests import test code";
	if (source === target) return null;
	if (FLOOR.has(target)) return null;
	if (WORKERS.has(target)) {
		if (WORKER_ENTRIES.has(to) && !WORKERS.has(source)) return null;
		return `${to} is an internal of the ${target}/ Worker`;
	}
	// Tests may use the tools (the local stack, the CLI) and test support as harnesses.
	if (isTestCode(from)) return null;
	if (FLOOR.has(source)) return `the floor (${source}/) imports only the floor`;
	if (WORKERS.has(source)) return `a Worker (${source}/) imports only itself and the floor`;
	if (TOOLS.has(target) || source === "") return null;
	return `${source}/ does not import ${target}/`;
}

function sourceFiles(dir: string): string[] {
	return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
		if (SKIPPED_DIRS.has(name)) return [];
		const file = dir ? `${dir}/${name}` : name;
		if (statSync(path.join(ROOT, file)).isDirectory()) return sourceFiles(file);
		return SOURCE.test(name) && !name.endsWith(".d.ts") ? [file] : [];
	});
}

/** The repository path a relative specifier names, whichever extension it was written without. */
function resolve(from: string, specifier: string): string {
	const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), specifier));
	for (const candidate of [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`]) {
		try {
			if (statSync(path.join(ROOT, candidate)).isFile()) return candidate;
		} catch {}
	}
	return base;
}

const IMPORT = /(?:\bfrom|\bimport\(?)\s*["'](\.{1,2}\/[^"']+)["']/g;

function violations(): string[] {
	return sourceFiles("").flatMap((file) =>
		[...readFileSync(path.join(ROOT, file), "utf8").matchAll(IMPORT)].flatMap(([, specifier]) => {
			const target = resolve(file, specifier!);
			const why = importViolation(file, target);
			return why ? [`${file} imports ${target}: ${why}`] : [];
		}),
	);
}

describe("import directions", () => {
	it("hold across the whole tree", () => {
		expect(violations()).toEqual([]);
	});

	it("refuse a Worker reaching into another Worker", () => {
		expect(importViolation("worker/src/app.ts", "queue-consumer/src/settle.ts")).toMatch(/internal/);
		expect(importViolation("alerts/src/index.ts", "worker/src/lib/signature.ts")).toMatch(/internal/);
		expect(importViolation("worker/test/webhooks.test.ts", "queue-consumer/src/settle.ts")).toMatch(
			/internal/,
		);
		expect(importViolation("queue-consumer/src/index.ts", "queue-consumer/engine.ts")).toBeNull();
		expect(importViolation("worker/src/app.ts", "queue-consumer/engine.ts")).toMatch(/internal/);
		expect(importViolation("worker/src/app.ts", "api/src/routes/admin/index.ts")).toMatch(/internal/);
		expect(importViolation("api/src/app.ts", "worker/src/lib/signature.ts")).toMatch(/internal/);
		expect(importViolation("api/src/app.ts", "queue-consumer/src/settle.ts")).toMatch(/internal/);
		expect(importViolation("api/test/openapi.test.ts", "worker/src/app.ts")).toMatch(/internal/);
		expect(importViolation("api/src/app.ts", "shared/http/errors.ts")).toBeNull();
		expect(importViolation("worker/src/app.ts", "shared/http/metrics.ts")).toBeNull();
		expect(importViolation("api/src/routes/health.ts", "schema/client.ts")).toBeNull();
	});

	it("keep the tools out of the Workers' src/", () => {
		expect(importViolation("ops/commands/admin-create.ts", "api/src/lib/auth.ts")).toMatch(/internal/);
		expect(importViolation("load/bench/settle.ts", "queue-consumer/src/settle.ts")).toMatch(/internal/);
		expect(importViolation("ops/rollout/figures.ts", "alerts/src/index.ts")).toMatch(/internal/);
		expect(importViolation("load/bench/settle.ts", "queue-consumer/engine.ts")).toBeNull();
		expect(importViolation("load/local/run.ts", "ops/local/stack.ts")).toBeNull();
	});

	it("keep the floor and the Workers off the tools", () => {
		expect(importViolation("schema/client.ts", "worker/src/env.ts")).toMatch(/internal/);
		expect(importViolation("shared/http/metrics.ts", "api/src/env.ts")).toMatch(/internal/);
		expect(importViolation("schema/client.ts", "load/local/run.ts")).toMatch(/floor/);
		expect(importViolation("shared/alerts/rules.ts", "ops/table.ts")).toMatch(/floor/);
		expect(importViolation("worker/src/app.ts", "ops/webhook-signing.ts")).toMatch(
			/only itself and the floor/,
		);
		expect(importViolation("queue-consumer/src/settle.ts", "shared/webhook-secrets.ts")).toBeNull();
	});

	it("keep test support in tests", () => {
		expect(importViolation("ops/commands/reconcile.ts", "test/support/database.ts")).toMatch(/only tests/);
		expect(importViolation("load/local/run.ts", "ops/test/support/run-ops.ts")).toMatch(/only tests/);
		expect(importViolation("schema/tables.ts", "schema/test/x.test.ts")).toMatch(/only tests/);
		expect(importViolation("worker/test/webhooks.test.ts", "test/support/database.ts")).toBeNull();
		expect(
			importViolation("alerts/test/support/global-setup.ts", "test/support/cloudflare-stand-in.ts"),
		).toBeNull();
		expect(importViolation("vitest.config.ts", "test/projects.ts")).toBeNull();
		expect(importViolation("schema/test/migration.test.ts", "ops/migrate.ts")).toBeNull();
	});
});
