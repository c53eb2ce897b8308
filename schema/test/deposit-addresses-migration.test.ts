/**
 * Migration 0002_deposit_addresses_issued on a database holding the rows the earlier schema
 * allowed: what stays, what goes, and the audit record left for each removal. Runs the
 * committed SQL files in order on embedded Postgres (PGlite), seeding the rows before 0002.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { PGlite } from "@electric-sql/pglite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS_FOLDER } from "../../ops/migrate";

const TARGET = "0002_deposit_addresses_issued";
const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, "meta/_journal.json"), "utf8")) as {
	entries: { tag: string }[];
};

async function apply(db: PGlite, tag: string) {
	const text = readFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), "utf8");
	for (const statement of text.split("--> statement-breakpoint")) await db.exec(statement);
}

const ADMIN = "00000000-0000-4000-8000-0000000000ad";
const [A, B, C] = ["a", "b", "c"].map((x) => `00000000-0000-4000-8000-00000000000${x}`);
const id = (n: number) => `10000000-0000-4000-8000-00000000000${n}`;
const EVM1 = "0x1111111111111111111111111111111111111111";
const EVM2 = "0x2222222222222222222222222222222222222222";
const EVM3 = "0x3333333333333333333333333333333333333333";

let db: PGlite;

beforeAll(async () => {
	db = await PGlite.create();
	const tags = journal.entries.map((e) => e.tag);
	expect(tags).toContain(TARGET);
	for (const tag of tags.slice(0, tags.indexOf(TARGET))) await apply(db, tag);
	await db.exec(`
		INSERT INTO admins (id, username, password_hash) VALUES ('${ADMIN}', 'ops', 'x');
		INSERT INTO users (id, username) VALUES ('${A}', 'a'), ('${B}', 'b'), ('${C}', 'c');
		INSERT INTO deposit_addresses (id, user_id, chain, address, created_at) VALUES
			('${id(1)}', '${A}', 'bep20', '${EVM1}', now() - interval '5 days'),
			('${id(2)}', '${B}', 'erc20', '${EVM1}', now() - interval '4 days'),
			('${id(3)}', '${A}', 'erc20', '${EVM2}', now() - interval '4 days'),
			('${id(4)}', '${A}', 'bep20', '${EVM2}', now() - interval '3 days'),
			('${id(5)}', '${C}', 'bep20', '${EVM3}', now() - interval '6 days'),
			('${id(6)}', '${B}', 'erc20', '${EVM3}', now() - interval '1 day'),
			('${id(7)}', '${A}', 'trc20', 'tjrabprwbzy45sbavfcjinpjc18kjprtv8', now());
		-- Every row but 5 was registered by an admin; 5 was declared by its player at sign-up.
		INSERT INTO audit_logs (admin_id, action, details)
		SELECT '${ADMIN}', 'deposit_address.create', jsonb_build_object('deposit_address_id', id)
		FROM deposit_addresses WHERE id <> '${id(5)}';
	`);
	await apply(db, TARGET);
});

afterAll(async () => {
	await db?.close();
});

describe(`migration ${TARGET}`, () => {
	it("keeps admin registrations, one owner per EVM address (the earliest), as origin admin, issued", async () => {
		const { rows } = await db.query(
			"SELECT id, family, address, user_id, origin, issued_at IS NOT NULL AS issued FROM deposit_addresses ORDER BY id",
		);
		expect(rows).toEqual([
			{ id: id(1), family: "evm", address: EVM1, user_id: A, origin: "admin", issued: true },
			{ id: id(3), family: "evm", address: EVM2, user_id: A, origin: "admin", issued: true },
			// The self-declared row 5 came earlier, but counts for nothing: the admin's stands.
			{ id: id(6), family: "evm", address: EVM3, user_id: B, origin: "admin", issued: true },
		]);
	});

	it("records every removal but a same-owner merge, with its former player and the reason", async () => {
		const { rows } = await db.query(
			`SELECT admin_id, details->>'deposit_address_id' AS id, details->>'user_id' AS user_id,
				details->>'chain' AS chain, details->>'address' AS address, details->>'reason' AS reason
			 FROM audit_logs WHERE action = 'deposit_address.revoke' ORDER BY 2`,
		);
		expect(rows).toEqual([
			{ admin_id: null, id: id(2), user_id: B, chain: "erc20", address: EVM1, reason: "evm_owner_conflict" },
			{ admin_id: null, id: id(5), user_id: C, chain: "bep20", address: EVM3, reason: "self_declared" },
			{
				admin_id: null,
				id: id(7),
				user_id: A,
				chain: "trc20",
				address: "tjrabprwbzy45sbavfcjinpjc18kjprtv8",
				reason: "tron_case_lost",
			},
		]);
	});

	it("leaves the new table's guarantees in force", async () => {
		await expect(
			db.query("INSERT INTO deposit_addresses (family, address, origin) VALUES ('evm', $1, 'pool')", [EVM1]),
		).rejects.toThrow(/uq_deposit_addresses_family_address/);
		await expect(
			db.query("INSERT INTO deposit_addresses (family, address, origin) VALUES ('btc', 'x', 'pool')"),
		).rejects.toThrow(/chk_deposit_addresses_family/);
		await expect(
			db.query(
				"INSERT INTO deposit_addresses (family, address, user_id, origin) VALUES ('evm', 'y', $1, 'pool')",
				[C],
			),
		).rejects.toThrow(/chk_deposit_addresses_issued/);
	});
});
