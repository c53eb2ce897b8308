/**
 * Keyset pagination for lists ordered newest first by `(timestamp, id)`: `?limit=&cursor=` in,
 * `{items, next_cursor}` out. The cursor is opaque to clients (base64url of the last row's
 * timestamp, to the microsecond, and id), so a page boundary never skips or repeats a row even
 * when rows share a timestamp, and a page costs the same however deep it is.
 *
 * A cursor is not signed: it only positions a query that is already restricted to what the
 * caller may see, so a forged one reveals nothing.
 *
 * @module
 */
import * as z from "../../../schema/zod";
import { validationFailed } from "../../../shared/http/errors";
import type { AccountsDatabase } from "./database";

const DEFAULT_PAGE_SIZE = 50;
const MAX_PAGE_SIZE = 100;

/** A row position: an ISO 8601 UTC timestamp with microseconds, and the row's id. */
interface CursorPosition {
	t: string;
	id: string;
}

const positionSchema = z.object({
	t: z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/)),
	id: z.uuid(),
});

/** Query fields every list accepts. */
export const pageQuery = {
	limit: z._default(z.coerce.number().check(z.int(), z.gte(1), z.lte(MAX_PAGE_SIZE)), DEFAULT_PAGE_SIZE),
	cursor: z.optional(z.string().check(z.maxLength(200))),
};

/**
 * SQL for a timestamp column as the cursor needs it: UTC, microseconds, ISO 8601. Also used for
 * every timestamp the API returns, so they all read the same.
 */
export function isoTimestamp(column: string): string {
	return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}

export function encodeCursor(position: CursorPosition): string {
	return btoa(JSON.stringify(position)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

/** The position a cursor names, or a 422 when it is not one of ours. */
function decodeCursor(cursor: string | undefined): CursorPosition | null {
	if (cursor === undefined || cursor === "") return null;
	try {
		const json = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
		return positionSchema.parse(JSON.parse(json));
	} catch {
		throw validationFailed("the cursor is not valid; use next_cursor from a previous page", [
			{ path: "cursor", message: "not a cursor this API issued" },
		]);
	}
}

/**
 * Runs a keyset-paged list query and cuts the page. The query takes `filters` as its first
 * parameters, then the cursor's timestamp and id (both null on the first page) and the row
 * limit, and orders by `(sort key, id)` descending.
 *
 * @example
 * ```ts
 * return c.json(await fetchPage(db, LIST, [userId], query, (r) => r.sort_at, toItem));
 * ```
 */
export async function fetchPage<Row extends { id: string }, Item>(
	db: AccountsDatabase,
	text: string,
	filters: unknown[],
	query: { limit: number; cursor?: string | undefined },
	sortKey: (row: Row) => string,
	toItem: (row: Row) => Item,
): Promise<{ items: Item[]; next_cursor: string | null }> {
	const after = decodeCursor(query.cursor);
	const rows = await db.query<Row>(text, [...filters, after?.t ?? null, after?.id ?? null, query.limit + 1]);
	return page(rows, query.limit, sortKey, toItem);
}

/**
 * Cuts a page from rows fetched with `LIMIT limit + 1`: the extra row only says that there is
 * a next page.
 */
function page<Row extends { id: string }, Item>(
	rows: Row[],
	limit: number,
	sortKey: (row: Row) => string,
	toItem: (row: Row) => Item,
): { items: Item[]; next_cursor: string | null } {
	const visible = rows.slice(0, limit);
	const last = visible.at(-1);
	return {
		items: visible.map(toItem),
		next_cursor: rows.length > limit && last ? encodeCursor({ t: sortKey(last), id: last.id }) : null,
	};
}
