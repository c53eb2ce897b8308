/**
 * What the local Neon HTTP endpoint needs from a Postgres: run one statement, or a list of
 * statements in one transaction, with every value returned as Postgres's text output.
 *
 * @module
 */

/** A column of a result, as the Neon driver reads it. */
interface WireField {
	name: string;
	tableID: number;
	columnID: number;
	dataTypeID: number;
	dataTypeSize: number;
	dataTypeModifier: number;
	format: string;
}

/** One statement's result in Neon's HTTP format (`Neon-Raw-Text-Output`, `Neon-Array-Mode`). */
export interface WireResult {
	fields: WireField[];
	command: string;
	rowCount: number | null;
	rows: (string | null)[][];
	rowAsArray: true;
}

export interface WireQuery {
	query: string;
	params: (string | null)[];
}

export interface TransactionOptions {
	isolationLevel?: string;
	readOnly?: boolean;
	deferrable?: boolean;
}

export interface SqlBackend {
	/** A label for progress output, e.g. "embedded Postgres (PGlite) in .data/pglite". */
	readonly description: string;
	query(database: string, q: WireQuery): Promise<WireResult>;
	transaction(database: string, queries: WireQuery[], options: TransactionOptions): Promise<WireResult[]>;
	close(): Promise<void>;
}

const ISOLATION: Record<string, string> = {
	ReadUncommitted: "READ UNCOMMITTED",
	ReadCommitted: "READ COMMITTED",
	RepeatableRead: "REPEATABLE READ",
	Serializable: "SERIALIZABLE",
};

/** The BEGIN statement for Neon's batch headers; unknown levels are refused, not guessed. */
export function beginStatement(options: TransactionOptions): string {
	const parts = ["BEGIN"];
	if (options.isolationLevel) {
		const level = ISOLATION[options.isolationLevel];
		if (!level) throw new Error(`unknown isolation level "${options.isolationLevel}"`);
		parts.push(`ISOLATION LEVEL ${level}`);
	}
	if (options.readOnly !== undefined) parts.push(options.readOnly ? "READ ONLY" : "READ WRITE");
	if (options.deferrable !== undefined) parts.push(options.deferrable ? "DEFERRABLE" : "NOT DEFERRABLE");
	return parts.join(" ");
}

/** Fields of a Postgres error that Neon passes back to the driver (see the driver's source). */
export const ERROR_FIELDS = [
	"severity",
	"code",
	"detail",
	"hint",
	"position",
	"internalPosition",
	"internalQuery",
	"where",
	"schema",
	"table",
	"column",
	"dataType",
	"constraint",
	"file",
	"line",
	"routine",
] as const;

/** A Postgres error (it has a SQLSTATE), as opposed to a failure to reach Postgres at all. */
export function isPostgresError(error: unknown): error is Error & Record<string, unknown> {
	const code = (error as { code?: unknown } | null)?.code;
	return error instanceof Error && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}
