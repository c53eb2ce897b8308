/**
 * `ops hand-back [--apply]`: the way back to the original platform, for the deposits this
 * system took over from it and never credited (ops/adopt/hand-back.ts). Dry run by default.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { handBack } from "../adopt/hand-back";
import { pgSession } from "../adopt/session";
import { connectPostgres, redact } from "../migrate";
import { formatTable } from "../table";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

export const handBackCommand: Command = {
	summary:
		"the way back: return deposits taken over from the original and not credited (dry run, or --apply)",
	help: `usage: npm run ops -- hand-back [--apply] [--url <postgres-url>]

For going back to the original CricAlgo platform after ops adopt: the original's pending
deposit rows that ops adopt superseded, whose deposit this system has not credited, get their
fields back as they were, and those deposits are removed here (they never moved money), so
the original credits them when its watcher reports them. Credited deposits stay as they are:
the original sees them as processed and skips them.

Stop this system's intake and let its queue drain first (docs/cutover.md, "The way back").

  --apply                do it (default: list what would be handed back)
  --url <postgres-url>   the database (default: $DATABASE_URL)

Exit codes: 0 done (or listed), 1 failed (nothing changed), 2 usage.`,
	async run(args) {
		let values: { apply?: boolean; url?: string };
		try {
			({ values } = parseArgs({
				args,
				options: { apply: { type: "boolean", default: false }, url: { type: "string" } },
			}));
		} catch (error) {
			throw new UsageError((error as Error).message);
		}
		const url = values.url ?? process.env.DATABASE_URL;
		if (!url)
			throw new UsageError("no database given: set DATABASE_URL or pass --url postgres://user:pass@host/db");
		const client = await connectPostgres(url);
		try {
			const db = pgSession(client);
			const rows = await db.transaction(() => handBack(db, values.apply ?? false));
			console.log(`ops hand-back${values.apply ? "" : " (dry run)"}: ${redact(url)}`);
			if (!rows.length) {
				console.log("no deposit taken over from the original is still uncredited: nothing to hand back");
				return 0;
			}
			console.log(
				formatTable(
					["deposit", "status", "amount", "tx_hash", "original row"],
					rows.map((r) => [r.deposit_id, r.status, r.amount, r.tx_hash, r.transaction_id]),
				),
			);
			console.log(
				values.apply
					? `${rows.length} deposit(s) handed back: the original's rows are deposits of its own again`
					: `dry run: nothing was changed. Run again with --apply to hand these ${rows.length} deposit(s) back.`,
			);
			return 0;
		} finally {
			await client.end();
		}
	},
};
