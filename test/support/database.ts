/**
 * Test access to the project's database from inside workerd, through the same Neon driver the
 * Workers use. `resetDatabase()` gives each test a clean ledger.
 *
 * @module
 */
import { createDatabase } from "../../schema/client";
import type { QueryRows } from "../../schema/ledger-invariants";

/** Every table the migrations create, children first. */
const TABLES = [
	"login_throttle",
	"deposit_deliveries",
	"wallet_baselines",
	"legacy_deposit_rows",
	"adoptions",
	"audit_logs",
	"refresh_tokens",
	"dead_letters",
	"deposit_conflicts",
	"reversal_shortfalls",
	"transactions",
	"deposits",
	"deposit_addresses",
	"wallets",
	"users",
	"settlement_pause",
	"admins",
];

export function testDatabase(env: { DATABASE_URL: string; NEON_HTTP_ENDPOINT?: string }) {
	return createDatabase(env);
}

/** The test database as the ledger-invariant checker reads it. */
export function ledgerQuery(env: { DATABASE_URL: string; NEON_HTTP_ENDPOINT?: string }): QueryRows {
	const { sql } = createDatabase(env);
	return (query, params) => sql.query(query, params ?? []) as Promise<Record<string, unknown>[]>;
}

export async function resetDatabase(env: { DATABASE_URL: string; NEON_HTTP_ENDPOINT?: string }) {
	const { sql } = createDatabase(env);
	await sql.query(`TRUNCATE ${TABLES.join(", ")} RESTART IDENTITY CASCADE`);
}
