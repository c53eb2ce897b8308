/**
 * `ops reconcile`: the ledger-invariant checker (schema/ledger-invariants.ts) against a
 * database, as a report of every discrepancy, and a non-zero exit when there is one. On the
 * original platform's database after `ops adopt` it accounts for each wallet from its baseline:
 * this system's credits and reversals, and the original's own deposit credits, payouts and
 * contest entries since (schema/wallet-movements.ts); on a database this system created, from
 * zero. It also lists what `ops adopt` parked, for an operator (not a discrepancy).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { checkLedgerInvariants, formatLedgerReport } from "../../schema/ledger-invariants";
import { openDatabaseClient } from "../database-client";
import { redact } from "../migrate";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

/** Exit codes of `ops reconcile`. */
const RECONCILE_EXIT = { clean: 0, discrepancies: 1, usage: 2 } as const;

const HELP = `usage: npm run ops -- reconcile [--url <postgres-url>] [--limit N] [--json]

Checks the ledger: every wallet holds what its movements say, no balance is negative, every
deposit has the ledger rows its status needs (one credit per inclusion, reversals with their
shortfalls), a frozen player for every shortfall, and on an adopted database, that every deposit
row of the original platform was mapped and none is credited by both systems. Prints every
discrepancy found, then the totals and what ops adopt parked.

Run it against a copy of production after ops adopt, during shadow traffic, and after the
switch (docs/cutover.md). Read only.

  --url <postgres-url>  the database (default: $DATABASE_URL)
  --limit N             discrepancies listed per check (default 50)
  --json                the report as JSON

The database: pg over TCP (Neon URLs work as is). When NEON_HTTP_ENDPOINT is set, the command
goes through that Neon HTTP endpoint instead, as \`npm start\`'s embedded database is reached.

Exit codes: 0 no discrepancy, 1 discrepancies (listed), 2 usage.`;

export const reconcile: Command = {
	summary: "check the ledger against the wallets (also on the adopted original database)",
	help: HELP,
	async run(args) {
		let values: { url?: string; limit?: string; json?: boolean };
		try {
			({ values } = parseArgs({
				args,
				options: {
					url: { type: "string" },
					limit: { type: "string", default: "50" },
					json: { type: "boolean" },
				},
			}));
		} catch (error) {
			throw new UsageError((error as Error).message);
		}
		const url = values.url ?? process.env.DATABASE_URL;
		if (!url)
			throw new UsageError("no database given: set DATABASE_URL or pass --url postgres://user:pass@host/db");
		const limit = Number(values.limit);
		if (!Number.isInteger(limit) || limit < 1)
			throw new UsageError(`--limit must be a whole number ≥ 1, not "${values.limit}"`);
		const client = await openDatabaseClient({
			DATABASE_URL: url,
			NEON_HTTP_ENDPOINT: process.env.NEON_HTTP_ENDPOINT,
		});
		try {
			const query = client.query;
			const report = await checkLedgerInvariants(query, { limit });
			const parked = await query(
				`SELECT source, source_id::text AS id, reason FROM legacy_deposit_rows
				 WHERE outcome = 'parked' AND resolved_at IS NULL ORDER BY adopted_at, source, source_id LIMIT $1`,
				[limit],
			);
			const [adoption] = await query(
				"SELECT to_char(min(finished_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS at FROM adoptions WHERE finished_at IS NOT NULL",
			);
			if (values.json) {
				console.log(
					JSON.stringify(
						{ database: redact(url), adopted_at: adoption?.at ?? null, ...report, parked_records: parked },
						null,
						2,
					),
				);
			} else {
				console.log(`ops reconcile: ${client.description}`);
				console.log(
					adoption?.at
						? `adopted from the original platform at ${adoption.at}: wallets are accounted from their baselines`
						: "a database this system created: wallets are accounted from zero",
				);
				console.log(formatLedgerReport(report));
				if (parked.length) {
					console.log("parked by ops adopt (an operator decides each; not a discrepancy):");
					console.log(
						formatTable(
							["source", "id", "reason"],
							parked.map((p) => [String(p.source), String(p.id), String(p.reason)]),
						),
					);
				}
			}
			return report.ok ? RECONCILE_EXIT.clean : RECONCILE_EXIT.discrepancies;
		} finally {
			await client.close();
		}
	},
};
