/**
 * What a database holds, read from Postgres' catalogs (schema `public`): tables, columns,
 * constraints, indexes, enum types, triggers, and the migrations Drizzle recorded. `ops adopt`
 * plans from this picture and never from assumptions.
 *
 * @module
 */
import type { Session } from "./session";

export interface Column {
	name: string;
	/** As `format_type` writes it, e.g. `character varying(48)`, `numeric(30,8)`. */
	type: string;
	notNull: boolean;
}

interface Constraint {
	name: string;
	table: string;
	/** p (primary key), u (unique), c (check), f (foreign key). */
	kind: "p" | "u" | "c" | "f";
	columns: string[];
	/** `pg_get_constraintdef`. */
	definition: string;
	/** Foreign keys: the referenced table, and the ON DELETE action (a, r, c, n, d). */
	references?: string;
	onDelete?: string;
}

export interface Catalog {
	tables: Set<string>;
	columns: Map<string, Column[]>;
	constraints: Constraint[];
	indexes: Set<string>;
	/** Enum types and their labels in order. */
	enums: Map<string, string[]>;
	/** Triggers as `table.trigger`. */
	triggers: Set<string>;
	/** Hashes of the migrations in `drizzle.__drizzle_migrations`, oldest first (empty without the table). */
	migrations: { hash: string; createdAt: number }[];
}

export async function readCatalog(db: Session): Promise<Catalog> {
	const tables = await db.query<{ name: string }>(
		"SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')",
	);
	const columns = await db.query<{ table: string; name: string; type: string; not_null: boolean }>(
		`SELECT c.relname AS table, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null
		 FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
		 ORDER BY c.relname, a.attnum`,
	);
	const constraints = await db.query<{
		name: string;
		table: string;
		kind: Constraint["kind"];
		columns: string[];
		definition: string;
		references: string | null;
		on_delete: string | null;
	}>(
		`SELECT con.conname AS name, c.relname AS table, con.contype::text AS kind,
			COALESCE((SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
				JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum), '{}'::text[]) AS columns,
			pg_get_constraintdef(con.oid) AS definition,
			ref.relname AS references, NULLIF(con.confdeltype::text, ' ') AS on_delete
		 FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
		 LEFT JOIN pg_class ref ON ref.oid = con.confrelid
		 WHERE n.nspname = 'public' AND con.contype IN ('p', 'u', 'c', 'f')`,
	);
	const indexes = await db.query<{ name: string }>(
		"SELECT indexname AS name FROM pg_indexes WHERE schemaname = 'public'",
	);
	const enums = await db.query<{ name: string; labels: string[] }>(
		`SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
		 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
		 WHERE n.nspname = 'public' GROUP BY t.typname`,
	);
	const triggers = await db.query<{ name: string }>(
		`SELECT c.relname || '.' || t.tgname AS name FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
		 JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND NOT t.tgisinternal`,
	);
	const [hasMigrations] = await db.query<{ exists: boolean }>(
		"SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS exists",
	);
	const migrations = hasMigrations?.exists
		? await db.query<{ hash: string; created_at: string }>(
				"SELECT hash, created_at::text AS created_at FROM drizzle.__drizzle_migrations ORDER BY created_at, id",
			)
		: [];

	const byTable = new Map<string, Column[]>();
	for (const c of columns) {
		const list = byTable.get(c.table) ?? [];
		list.push({ name: c.name, type: c.type, notNull: c.not_null });
		byTable.set(c.table, list);
	}
	return {
		tables: new Set(tables.map((t) => t.name)),
		columns: byTable,
		constraints: constraints.map((c) => ({
			name: c.name,
			table: c.table,
			kind: c.kind,
			columns: c.columns,
			definition: c.definition,
			references: c.references ?? undefined,
			onDelete: c.on_delete ?? undefined,
		})),
		indexes: new Set(indexes.map((i) => i.name)),
		enums: new Map(enums.map((e) => [e.name, e.labels])),
		triggers: new Set(triggers.map((t) => t.name)),
		migrations: migrations.map((m) => ({ hash: m.hash, createdAt: Number(m.created_at) })),
	};
}

/** The column of `table` named `name`, if any. */
export function columnOf(catalog: Catalog, table: string, name: string): Column | undefined {
	return catalog.columns.get(table)?.find((c) => c.name === name);
}
