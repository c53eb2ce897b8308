/**
 * What kind of database `ops adopt` (and `ops migrate`) is looking at:
 *
 * - `empty`: none of the ledger's tables: a new database, for the migrations;
 * - `original`: built by the original CricAlgo platform and not adopted yet: its `users`,
 *   `wallets` and `transactions`, with its marks (the `tr_create_wallet` trigger, Alembic's
 *   `alembic_version`, `deposit_requests`), and no migration of this system recorded;
 * - `adopted`: the original's database after `ops adopt` (the baseline is recorded and its marks
 *   are still there);
 * - `migrated`: a database this system's migrations created;
 * - `unknown`: some of the ledger's tables without either story: nothing is touched.
 *
 * @module
 */
import { baselineMigration } from "./baseline";
import type { Catalog } from "./catalog";

type DatabaseKind = "empty" | "original" | "adopted" | "migrated" | "unknown";

/** The tables both the original and this system have. */
const SHARED_TABLES = ["users", "wallets", "transactions", "admins", "audit_logs"] as const;

interface Recognition {
	kind: DatabaseKind;
	/** What was seen, in words, for the plan and for errors. */
	evidence: string[];
}

export function recognise(catalog: Catalog): Recognition {
	const shared = SHARED_TABLES.filter((t) => catalog.tables.has(t));
	const marks = [
		catalog.triggers.has("users.tr_create_wallet") ? "the wallet trigger tr_create_wallet on users" : null,
		catalog.tables.has("alembic_version") ? "Alembic's alembic_version table" : null,
		catalog.tables.has("deposit_requests") ? "the deposit_requests table" : null,
	].filter((m): m is string => m !== null);
	const baseline = baselineMigration().hash;
	const baselined = catalog.migrations.some((m) => m.hash === baseline);
	const evidence = [
		shared.length ? `tables ${shared.join(", ")}` : "none of the ledger's tables",
		...marks,
		catalog.migrations.length
			? `${catalog.migrations.length} migration(s) of this system recorded${baselined ? "" : ", but not the first one"}`
			: "no migration of this system recorded",
	];
	if (baselined) return { kind: marks.length ? "adopted" : "migrated", evidence };
	if (catalog.migrations.length) return { kind: "unknown", evidence };
	if (!shared.length && !catalog.tables.has("deposits")) return { kind: "empty", evidence };
	const originalShape =
		shared.length === SHARED_TABLES.length &&
		marks.length > 0 &&
		!catalog.tables.has("deposits") &&
		catalog.columns.get("users")?.some((c) => c.name === "telegram_id");
	return { kind: originalShape ? "original" : "unknown", evidence };
}
