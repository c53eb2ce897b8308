/**
 * `ops adopt [--apply]`: takes over the original CricAlgo platform's database (ops/adopt/).
 * Without `--apply`, prints the plan and changes nothing.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { parseThresholds } from "../adopt/backfill";
import { AdoptionBlocked } from "../adopt/baseline";
import { ADOPT_EXIT, runAdopt } from "../adopt/run-adopt";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

/** The consumer's CONFIRMATIONS (queue-consumer/wrangler.toml): what backfilled pending deposits wait for. */
const DEFAULT_CONFIRMATIONS = "bep20=12,erc20=12,trc20=19";

export const adopt: Command = {
	summary: "take over the original CricAlgo database: plan (dry run), or --apply",
	help: `usage: npm run ops -- adopt [--apply] [--url <postgres-url>] [options]

Recognises the database (new, the original CricAlgo platform's, or one this system made),
prints the plan, and with --apply carries it out in three phases, each one transaction:

  1. baseline: the original's tables brought to this system's first migration (columns it
     lacks added, constraints renamed to the migration's names), recorded as applied;
  2. migrations: every later migration, through the same migrator as ops migrate;
  3. backfill: the original's deposit history into deposits (credited ones are never
     credited again, pending ones credit once), unmappable records parked and listed,
     wallet baselines for ops reconcile.

Anything else stays as it is. Running it again is safe: done phases are skipped, and the
backfill maps only records the original wrote since. An interrupted run is finished by
running it again. A new database gets the migrations, as with ops migrate.

Stop the original's deposit processing (its webhook endpoint and Celery deposit tasks)
before --apply on production; docs/cutover.md is the whole procedure.

  --apply                 do it (default: dry run)
  --url <postgres-url>    the database (default: $DATABASE_URL)
  --confirmations <list>  confirmations each chain needs, as the consumer is configured
                          (default ${DEFAULT_CONFIRMATIONS})
  --currency <code>       the wallets' currency (default USDT)

Exit codes: 0 done (or planned), 1 failed (nothing of the failing phase was changed),
2 usage, 3 the database cannot be adopted as it is (the reasons are printed).`,
	async run(args) {
		let values: { apply?: boolean; url?: string; confirmations?: string; currency?: string };
		try {
			({ values } = parseArgs({
				args,
				options: {
					apply: { type: "boolean", default: false },
					url: { type: "string" },
					confirmations: { type: "string", default: DEFAULT_CONFIRMATIONS },
					currency: { type: "string", default: "USDT" },
				},
			}));
		} catch (error) {
			throw new UsageError((error as Error).message);
		}
		const url = values.url ?? process.env.DATABASE_URL;
		if (!url)
			throw new UsageError("no database given: set DATABASE_URL or pass --url postgres://user:pass@host/db");
		let thresholds: ReturnType<typeof parseThresholds>;
		try {
			thresholds = parseThresholds(values.confirmations ?? DEFAULT_CONFIRMATIONS);
		} catch (error) {
			throw new UsageError((error as Error).message);
		}
		try {
			return await runAdopt({
				url,
				apply: values.apply ?? false,
				thresholds,
				walletCurrency: values.currency ?? "USDT",
				log: (line) => console.log(line),
			});
		} catch (error) {
			if (error instanceof AdoptionBlocked) {
				console.error(`error: ${error.message}`);
				return ADOPT_EXIT.blocked;
			}
			throw error;
		}
	},
};
