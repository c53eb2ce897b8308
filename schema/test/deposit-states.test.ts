/**
 * The deposit states have one source (deposit-states.ts): the Drizzle enum is made from it, and
 * the committed migrations, applied in order on embedded Postgres (PGlite) as `ops migrate`
 * applies them, create exactly that enum, in that order.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../ops/migrate";
import { DEPOSIT_STATES } from "../deposit-states";
import { depositStatus } from "../tables";

const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8")) as {
	entries: { tag: string }[];
};

let db: PGlite;

beforeAll(async () => {
	db = await PGlite.create();
	for (const { tag } of journal.entries) {
		const text = readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), "utf8");
		for (const statement of text.split("--> statement-breakpoint")) await db.exec(statement);
	}
}, 60_000);

afterAll(async () => {
	await db?.close();
});

describe("deposit states", () => {
	it("are the Drizzle enum's values", () => {
		expect(depositStatus.enumName).toBe("deposit_state");
		expect(depositStatus.enumValues).toEqual([...DEPOSIT_STATES]);
	});

	it("are the values of the deposit_state type the migrations create", async () => {
		const { rows } = await db.query<{ state: string }>(
			"SELECT unnest(enum_range(NULL::deposit_state))::text AS state",
		);
		expect(rows.map((r) => r.state)).toEqual([...DEPOSIT_STATES]);
	});
});
