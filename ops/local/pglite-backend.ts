/**
 * A {@link SqlBackend} on embedded Postgres (PGlite, Postgres compiled to WASM): nothing to
 * install. Each database name gets its own PGlite instance, kept in `dataDir/<name>` or, with
 * no `dataDir`, in memory.
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { beginStatement, type SqlBackend, type WireQuery, type WireResult } from "./sql-backend";

type Instance = {
	db: PGlite;
	parsers: Record<number, (v: string) => string>;
	serializers: Record<number, (v: unknown) => string>;
};

async function open(dataDir: string | undefined): Promise<Instance> {
	if (dataDir) mkdirSync(dataDir, { recursive: true });
	const db = await PGlite.create(dataDir ? { dataDir } : {});
	// PGlite parses and serializes by type id; the Neon driver wants raw text both ways
	// (it sends `\x…` strings for bytea and already-encoded JSON), so every known type id
	// gets an identity function. Types PGlite has no parser for come back as text anyway.
	const identity = (v: unknown) => String(v);
	const raw = (v: string) => v;
	const parsers = Object.fromEntries(Object.keys(db.parsers).map((k) => [k, raw]));
	const serializers = Object.fromEntries(Object.keys(db.serializers).map((k) => [k, identity]));
	return { db, parsers, serializers };
}

async function run(target: Pick<PGlite, "query">, inst: Instance, q: WireQuery): Promise<WireResult> {
	const result = await target.query<unknown[]>(q.query, q.params, {
		rowMode: "array",
		parsers: inst.parsers,
		serializers: inst.serializers,
	});
	const command = (result as { command?: string }).command ?? "";
	return {
		fields: result.fields.map((f) => ({
			name: f.name,
			dataTypeID: f.dataTypeID,
			tableID: 0,
			columnID: 0,
			dataTypeSize: -1,
			dataTypeModifier: -1,
			format: "text",
		})),
		command,
		rowCount: (result as { rowCount?: number }).rowCount ?? result.affectedRows ?? result.rows.length,
		rows: result.rows as (string | null)[][],
		rowAsArray: true,
	};
}

export function pgliteBackend(options: { dataDir?: string } = {}): SqlBackend & {
	/** The PGlite instance of a database, opened on first use (migrations run through it). */
	instance(database: string): Promise<PGlite>;
} {
	const instances = new Map<string, Promise<Instance>>();
	const get = (database: string) => {
		if (!/^[a-z0-9_]{1,63}$/.test(database)) {
			return Promise.reject(new Error(`invalid database name "${database}"`));
		}
		let inst = instances.get(database);
		if (!inst) {
			inst = open(options.dataDir ? join(options.dataDir, database) : undefined);
			instances.set(database, inst);
		}
		return inst;
	};
	return {
		description: options.dataDir
			? `embedded Postgres (PGlite) in ${options.dataDir}`
			: "embedded Postgres (PGlite) in memory",
		instance: async (database) => (await get(database)).db,
		async query(database, q) {
			const inst = await get(database);
			return run(inst.db, inst, q);
		},
		async transaction(database, queries, txOptions) {
			const inst = await get(database);
			// PGlite's transaction() holds the instance exclusively and rolls back on error.
			return inst.db.transaction(async (tx) => {
				const begin = beginStatement(txOptions);
				if (begin !== "BEGIN") await tx.exec(begin.replace(/^BEGIN/, "SET TRANSACTION"));
				const results: WireResult[] = [];
				for (const q of queries) results.push(await run(tx, inst, q));
				return results;
			});
		},
		async close() {
			for (const inst of instances.values()) await (await inst).db.close();
			instances.clear();
		},
	};
}
