/**
 * The baseline of an adopted database: the first committed migration (`0000_init`), brought
 * about on a database the original platform built, then recorded in Drizzle's bookkeeping as
 * applied, so that every later migration (whoever wrote it) applies through the normal migrator
 * exactly as on a new database.
 *
 * The plan is made statement by statement from the migration itself, against the catalog:
 *
 * - what does not exist is created with the migration's own statement;
 * - a table that exists (the original's `users`, `wallets`, `transactions`, `admins`,
 *   `audit_logs`) gets the columns it lacks (`users.password_hash`), loses a NOT NULL the
 *   baseline does not have (`users.telegram_id`; a later migration sets its own rule), and has
 *   its unique, check and foreign-key constraints renamed to the baseline's names where only the
 *   name differs (Postgres named them `users_username_key`, … ), so later migrations find them;
 * - columns the original has beyond the baseline (`transactions.processed_at`) stay as they are;
 * - anything else that differs (a column's type, a missing NOT NULL that data prevents, an enum
 *   without the baseline's labels) stops the adoption with a report: adopt never guesses.
 *
 * One statement is changed on purpose: the two partial unique indexes on `transactions` are
 * created for this system's rows only (`related_entity = 'deposit'`), because the original's own
 * deposit rows may share a `related_id` (its smoke flow points it at the user). A later
 * migration gives new databases the same definition, so both kinds end up alike. And where the
 * original's deposit rows do share one, {@link sharedRelatedIdStep} moves it into their metadata
 * first: the original never reads it for a deposit, while any unique index of the ledger keyed
 * on `related_id` (now or in a later migration) would refuse such rows.
 *
 * @module
 */
import { readMigrationFiles } from "drizzle-orm/migrator";
import { MIGRATIONS_FOLDER } from "../migrate";
import { type Catalog, type Column, columnOf } from "./catalog";

/** One change of the plan: what it does, in words and in SQL. */
export interface Step {
	description: string;
	sql: string[];
}

/** A difference adopt will not resolve by itself. */
export class AdoptionBlocked extends Error {
	override name = "AdoptionBlocked";
	constructor(readonly problems: string[]) {
		super(
			`the database cannot be adopted as it is:\n${problems.map((p) => `  - ${p}`).join("\n")}\nNothing was changed. Resolve these by hand (or extend ops adopt), then run it again.`,
		);
	}
}

/** The baseline migration as Drizzle's migrator sees it: statements, hash and timestamp. */
export function baselineMigration() {
	const [first] = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
	if (!first) throw new Error(`no migrations found in ${MIGRATIONS_FOLDER}`);
	return {
		statements: first.sql.map((s) => s.trim()).filter(Boolean),
		hash: first.hash,
		folderMillis: first.folderMillis,
	};
}

/** Indexes created differently on an adopted database (see the module comment). */
const ADOPTED_INDEX_PREDICATES: Record<string, string> = {
	uq_transactions_deposit_credit: `"transactions"."tx_type" = 'deposit' AND "transactions"."related_entity" = 'deposit'`,
	uq_transactions_deposit_reversal: `"transactions"."tx_type" = 'deposit_reversal' AND "transactions"."related_entity" = 'deposit'`,
};

interface ColumnDef {
	name: string;
	type: string;
	notNull: boolean;
	/** The definition as the migration writes it, for ADD COLUMN. */
	text: string;
}

interface TableConstraintDef {
	name: string;
	kind: "u" | "c";
	columns: string[];
	text: string;
}

/** `varchar(48)` → `character varying(48)`, `numeric(30, 8)` → `numeric(30,8)`, as format_type writes them. */
function normaliseType(type: string): string {
	return type
		.trim()
		.replace(/"/g, "")
		.replace(/^varchar\b/, "character varying")
		.replace(/\s*,\s*/g, ",")
		.toLowerCase();
}

const COLUMN_KEYWORDS = /\s(PRIMARY KEY|DEFAULT|NOT NULL|NULL|UNIQUE|REFERENCES|CONSTRAINT|CHECK)\b/;

function parseCreateTable(statement: string) {
	const name = /^CREATE TABLE "([^"]+)"/.exec(statement)?.[1];
	const body = statement.slice(statement.indexOf("(") + 1, statement.lastIndexOf(")"));
	const columns: ColumnDef[] = [];
	const constraints: TableConstraintDef[] = [];
	for (const raw of body.split("\n")) {
		const line = raw.trim().replace(/,$/, "");
		if (!line) continue;
		const constraint = /^CONSTRAINT "([^"]+)" (UNIQUE|CHECK)\s*\((.*)\)$/.exec(line);
		if (constraint) {
			const kind = constraint[2] === "UNIQUE" ? "u" : "c";
			const columnsOf = kind === "u" ? [...constraint[3]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!) : [];
			constraints.push({ name: constraint[1]!, kind, columns: columnsOf, text: line });
			continue;
		}
		const column = /^"([^"]+)"\s+(.*)$/.exec(line);
		if (!column) throw new Error(`unexpected line in the baseline migration's CREATE TABLE ${name}: ${line}`);
		const rest = ` ${column[2]!}`;
		const cut = COLUMN_KEYWORDS.exec(rest);
		const type = (cut ? rest.slice(0, cut.index) : rest).trim();
		columns.push({
			name: column[1]!,
			type: normaliseType(type),
			notNull: /\bNOT NULL\b|\bPRIMARY KEY\b/.test(rest),
			text: line.replace(/\s+PRIMARY KEY/, ""),
		});
	}
	if (!name) throw new Error(`unexpected CREATE TABLE in the baseline migration: ${statement.slice(0, 80)}`);
	return { name, columns, constraints };
}

function alignColumn(
	table: string,
	want: ColumnDef,
	have: Column | undefined,
	problems: string[],
	steps: Step[],
) {
	if (!have) {
		if (want.notNull && !/\bDEFAULT\b/.test(want.text)) {
			problems.push(
				`${table}.${want.name} is missing and NOT NULL without a default: existing rows could not hold it`,
			);
			return;
		}
		steps.push({
			description: `add column ${table}.${want.name} (${want.type})`,
			sql: [`ALTER TABLE "${table}" ADD COLUMN ${want.text}`],
		});
		return;
	}
	if (normaliseType(have.type) !== want.type) {
		problems.push(`${table}.${want.name} is ${have.type} here; the baseline has ${want.type}`);
		return;
	}
	if (have.notNull && !want.notNull) {
		steps.push({
			description: `${table}.${want.name}: drop NOT NULL (the baseline allows NULL; later migrations set their own rule)`,
			sql: [`ALTER TABLE "${table}" ALTER COLUMN "${want.name}" DROP NOT NULL`],
		});
	} else if (!have.notNull && want.notNull) {
		steps.push({
			description: `${table}.${want.name}: set NOT NULL, as the baseline has it (fails if a row holds NULL)`,
			sql: [`ALTER TABLE "${table}" ALTER COLUMN "${want.name}" SET NOT NULL`],
		});
	}
}

function sameColumns(a: string[], b: string[]) {
	return a.length === b.length && a.every((c, i) => c === b[i]);
}

function alignTableConstraint(table: string, want: TableConstraintDef, catalog: Catalog, steps: Step[]) {
	const onTable = catalog.constraints.filter((c) => c.table === table);
	if (onTable.some((c) => c.name === want.name)) return;
	// Postgres named the original's unique constraints itself (users_username_key): same columns, other name.
	const match =
		want.kind === "u"
			? onTable.find((c) => c.kind === "u" && sameColumns(c.columns, want.columns))
			: undefined;
	if (match) {
		steps.push({
			description: `rename constraint ${table}.${match.name} to ${want.name}, the baseline's name`,
			sql: [`ALTER TABLE "${table}" RENAME CONSTRAINT "${match.name}" TO "${want.name}"`],
		});
		return;
	}
	steps.push({
		description: `add constraint ${table}.${want.name}`,
		sql: [`ALTER TABLE "${table}" ADD ${want.text}`],
	});
}

const FK =
	/^ALTER TABLE "([^"]+)" ADD CONSTRAINT "([^"]+)" FOREIGN KEY \("([^"]+)"\) REFERENCES "public"\."([^"]+)"\("[^"]+"\) ON DELETE (cascade|restrict|set null|set default|no action)/;
const ON_DELETE: Record<string, string> = { cascade: "c", "set null": "n", "no action": "a", restrict: "r" };

function alignForeignKey(
	statement: string,
	catalog: Catalog,
	preexisting: Set<string>,
	steps: Step[],
	problems: string[],
) {
	const m = FK.exec(statement);
	if (!m) throw new Error(`unexpected ALTER TABLE in the baseline migration: ${statement.slice(0, 100)}`);
	const [, table, name, column, target, action] = m as unknown as [
		string,
		string,
		string,
		string,
		string,
		string,
	];
	if (catalog.constraints.some((c) => c.name === name && c.table === table)) return;
	if (!preexisting.has(table)) {
		steps.push({ description: `foreign key ${table}.${column} → ${target}`, sql: [statement] });
		return;
	}
	const existing = catalog.constraints.find(
		(c) => c.table === table && c.kind === "f" && sameColumns(c.columns, [column]) && c.references === target,
	);
	if (!existing) {
		steps.push({ description: `foreign key ${table}.${column} → ${target}`, sql: [statement] });
		return;
	}
	if (existing.onDelete !== ON_DELETE[action.toLowerCase()]) {
		problems.push(
			`foreign key ${existing.name} (${table}.${column} → ${target}) has another ON DELETE rule than the baseline's ${action}`,
		);
		return;
	}
	steps.push({
		description: `rename foreign key ${table}.${existing.name} to ${name}, the baseline's name`,
		sql: [`ALTER TABLE "${table}" RENAME CONSTRAINT "${existing.name}" TO "${name}"`],
	});
}

/**
 * The steps that bring the original's database to the baseline, or {@link AdoptionBlocked}
 * listing every difference adopt will not resolve. `preexisting`: the tables found before
 * adoption (the original's).
 */
export function planBaseline(catalog: Catalog): Step[] {
	const steps: Step[] = [];
	const problems: string[] = [];
	const preexisting = new Set(catalog.tables);
	for (const statement of baselineMigration().statements) {
		const type = /^CREATE TYPE "public"\."([^"]+)" AS ENUM\((.*)\);?$/.exec(statement);
		if (type) {
			const [, name, list] = type as unknown as [string, string, string];
			const labels = [...list.matchAll(/'([^']*)'/g)].map((l) => l[1]!);
			const have = catalog.enums.get(name);
			if (!have) steps.push({ description: `create enum ${name}`, sql: [statement] });
			else if (!labels.every((l) => have.includes(l))) {
				problems.push(`enum ${name} has ${have.join(", ")}; the baseline needs ${labels.join(", ")}`);
			}
			continue;
		}
		if (statement.startsWith("CREATE TABLE")) {
			const table = parseCreateTable(statement);
			if (!preexisting.has(table.name)) {
				steps.push({ description: `create table ${table.name}`, sql: [statement] });
				continue;
			}
			for (const column of table.columns) {
				alignColumn(table.name, column, columnOf(catalog, table.name, column.name), problems, steps);
			}
			for (const constraint of table.constraints)
				alignTableConstraint(table.name, constraint, catalog, steps);
			continue;
		}
		if (statement.startsWith("ALTER TABLE")) {
			alignForeignKey(statement, catalog, preexisting, steps, problems);
			continue;
		}
		const index = /^CREATE (?:UNIQUE )?INDEX "([^"]+)" ON "([^"]+)"/.exec(statement);
		if (index) {
			const [, name, table] = index as unknown as [string, string, string];
			if (catalog.indexes.has(name)) continue;
			const predicate = preexisting.has(table) ? ADOPTED_INDEX_PREDICATES[name] : undefined;
			steps.push({
				description: predicate
					? `index ${name} on ${table}, for this system's rows only (related_entity = 'deposit')`
					: `index ${name} on ${table}`,
				sql: [predicate ? statement.replace(/ WHERE .*$/, ` WHERE ${predicate};`) : statement],
			});
			continue;
		}
		throw new Error(
			`the baseline migration has a statement ops adopt does not know: ${statement.slice(0, 100)}`,
		);
	}
	if (problems.length) throw new AdoptionBlocked(problems);
	return steps;
}

/** The original's deposit rows whose `related_id` another deposit row of the same type shares. */
const SHARED_RELATED_ID = `
FROM transactions t
WHERE t.tx_type IN ('deposit', 'deposit_reversal') AND t.related_entity IS DISTINCT FROM 'deposit'
	AND t.related_id IS NOT NULL
	AND EXISTS (SELECT 1 FROM transactions o WHERE o.tx_type = t.tx_type AND o.related_id = t.related_id AND o.id <> t.id)`;

/**
 * When the original's deposit rows share a `related_id`, the step that keeps it as
 * `metadata.original_related_id` and clears the column (see the module comment); else null.
 */
export async function sharedRelatedIdStep(
	query: (text: string) => Promise<Record<string, unknown>[]>,
): Promise<Step | null> {
	const [row] = await query(`SELECT count(*)::int AS n ${SHARED_RELATED_ID}`);
	const n = Number(row?.n ?? 0);
	if (!n) return null;
	return {
		description: `${n} deposit row(s) of the original share a related_id (its smoke flow sets the user's id): it is kept as metadata.original_related_id and cleared, so the ledger's unique indexes can exist`,
		sql: [
			`UPDATE transactions SET related_id = NULL,
				metadata = COALESCE(metadata, '{}'::jsonb) || jsonb_build_object('original_related_id', related_id)
			 WHERE id IN (SELECT t.id ${SHARED_RELATED_ID})`,
		],
	};
}

/** The step that records the baseline as applied, in Drizzle's own bookkeeping table. */
export function recordBaselineStep(): Step {
	const { hash, folderMillis } = baselineMigration();
	return {
		description: "record migration 0000_init as applied (the baseline) in drizzle.__drizzle_migrations",
		sql: [
			"CREATE SCHEMA IF NOT EXISTS drizzle",
			"CREATE TABLE IF NOT EXISTS drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)",
			`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('${hash}', ${folderMillis})`,
		],
	};
}
