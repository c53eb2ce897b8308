/**
 * `ops adopt` from start to end: recognise the database, make the plan, print it, and with
 * `apply` carry it out in three phases, each one transaction, each one skipped when a previous
 * run already did it (so an interrupted adoption is finished by running it again, and a
 * finished one run again only maps what the original wrote since):
 *
 * 1. baseline (baseline.ts): the original's tables brought to the first migration, recorded;
 * 2. migrations: every later migration through Drizzle's migrator, as `ops migrate` does;
 * 3. backfill (backfill.ts): the original's deposit history into `deposits`, wallet baselines.
 *
 * A new (empty) database gets phase 2 only, as with `ops migrate`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { readMigrationFiles } from "drizzle-orm/migrator";
import type { Chain } from "../../schema/queue-message";
import { connectPostgres, MIGRATIONS_FOLDER, migratePostgres, redact } from "../migrate";
import { type BackfillSummary, backfill, heldIn } from "./backfill";
import {
	baselineMigration,
	planBaseline,
	recordBaselineStep,
	type Step,
	sharedRelatedIdStep,
} from "./baseline";
import { readCatalog } from "./catalog";
import { recognise } from "./recognise";
import { pgSession, type Session } from "./session";

interface AdoptOptions {
	url: string;
	apply: boolean;
	thresholds: Record<Chain, number>;
	walletCurrency: string;
	log: (line: string) => void;
}

/** Exit codes of `ops adopt`. */
export const ADOPT_EXIT = { ok: 0, failed: 1, usage: 2, blocked: 3 } as const;

const KIND_TEXT = {
	empty: "a new, empty database",
	original: "built by the original CricAlgo platform, not adopted yet",
	adopted: "the original CricAlgo platform's, already adopted",
	migrated: "created by this system's migrations",
	unknown: "neither new, nor the original's, nor this system's",
} as const;

/** Tags of the migrations Drizzle's migrator would apply after those recorded (newer than the newest). */
function pendingMigrations(appliedMillis: number[]): string[] {
	const last = Math.max(0, ...appliedMillis);
	const journal = JSON.parse(readFileSync(`${MIGRATIONS_FOLDER}/meta/_journal.json`, "utf8")) as {
		entries: { tag: string; when: number }[];
	};
	return journal.entries.filter((e) => e.when > last).map((e) => e.tag);
}

/** Whether the schema after every migration has the `held` deposit status (settlement's review state). */
function migrationsDefineHeld(): boolean {
	return readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).some((m) =>
		m.sql.some((statement) => statement.includes('"hold_reason"')),
	);
}

function printSteps(log: (line: string) => void, steps: Step[]) {
	for (const step of steps) log(`  - ${step.description}`);
}

function printBackfill(log: (line: string) => void, summary: BackfillSummary, applied: boolean) {
	const outcomes = Object.entries(summary.byOutcome)
		.map(([k, v]) => `${v} ${k}`)
		.join(", ");
	log(
		`  ${summary.records} deposit record(s) of the original not seen before${outcomes ? `: ${outcomes}` : ""}`,
	);
	const deposits = Object.entries(summary.deposits)
		.map(([k, v]) => `${v} ${k}`)
		.join(", ");
	if (deposits) log(`  deposits ${applied ? "written" : "to write"}: ${deposits}`);
	for (const p of summary.parked) log(`  parked ${p.source} ${p.id}: ${p.reason}`);
	if (summary.parked.length) {
		log("  (parked records stay as they are, listed in legacy_deposit_rows; an operator decides each one)");
	}
	if (summary.trigger) log("  credits this system writes are marked processed for the original (trigger)");
	if (applied && summary.baselines)
		log(`  baselines of ${summary.baselines} wallet(s) taken for ops reconcile`);
}

export async function runAdopt(options: AdoptOptions): Promise<number> {
	const { log } = options;
	const recognition = await withSession(options.url, async (db) => {
		const catalog = await readCatalog(db);
		const found = recognise(catalog);
		log(`ops adopt${options.apply ? "" : " (dry run)"}: ${redact(options.url)}`);
		log(`database: ${KIND_TEXT[found.kind]} (${found.evidence.join("; ")})`);
		if (found.kind === "unknown") return { found, baseline: [], pending: [] };
		const shared = found.kind === "original" ? await sharedRelatedIdStep((text) => db.query(text)) : null;
		const baseline =
			found.kind === "original"
				? [...(shared ? [shared] : []), ...planBaseline(catalog), recordBaselineStep()]
				: [];
		const pending = pendingMigrations(
			found.kind === "original"
				? [baselineMigration().folderMillis]
				: catalog.migrations.map((m) => m.createdAt),
		);
		log(
			`phase 1, baseline: ${baseline.length ? `${baseline.length} step(s), one transaction` : "nothing to do"}`,
		);
		printSteps(log, baseline);
		log(`phase 2, migrations: ${pending.length ? pending.join(", ") : "none pending"}`);
		if (!options.apply && (found.kind === "original" || found.kind === "adopted")) {
			log("phase 3, backfill (one transaction):");
			const summary = await backfill(db, catalog, {
				...options,
				apply: false,
				heldAvailable: migrationsDefineHeld(),
				progress: () => {},
			});
			printBackfill(log, summary, false);
		}
		return { found, baseline, pending };
	});
	if (recognition.found.kind === "unknown") {
		log(
			"error: ops adopt recognises a new database, the original platform's, or one this system made; this is none of them, so nothing was changed. Compare its tables with the original's schema (docs/cutover.md).",
		);
		return ADOPT_EXIT.blocked;
	}
	if (!options.apply) {
		log("dry run: nothing was changed. Run again with --apply to do the above.");
		return ADOPT_EXIT.ok;
	}

	if (recognition.baseline.length) {
		const started = Date.now();
		await withSession(options.url, (db) =>
			db.transaction(async () => {
				for (const step of recognition.baseline) for (const statement of step.sql) await db.query(statement);
			}),
		);
		log(`phase 1 done in ${Date.now() - started} ms`);
	}
	if (recognition.pending.length) {
		const started = Date.now();
		await migratePostgres(options.url);
		log(`phase 2 done in ${Date.now() - started} ms`);
	}
	if (recognition.found.kind === "original" || recognition.found.kind === "adopted") {
		log("phase 3, backfill (one transaction):");
		const started = Date.now();
		await withSession(options.url, async (db) => {
			const catalog = await readCatalog(db);
			const summary = await db.transaction(() =>
				backfill(db, catalog, {
					...options,
					heldAvailable: heldIn(catalog),
					progress: (line) => log(`  ${line}`),
				}),
			);
			printBackfill(log, summary, true);
		});
		log(`phase 3 done in ${Date.now() - started} ms`);
	}
	log(
		recognition.found.kind === "empty" || recognition.found.kind === "migrated"
			? "migrations applied"
			: "adoption complete",
	);
	return ADOPT_EXIT.ok;
}

async function withSession<T>(url: string, work: (db: Session) => Promise<T>): Promise<T> {
	const client = await connectPostgres(url);
	try {
		return await work(pgSession(client));
	} finally {
		await client.end();
	}
}
