/**
 * `ops smoke --host URL`: the end-to-end smoke test of a running deployment (ops/smoke/),
 * writing a JSON artifact. scripts/smoke.sh and scripts/smoke.ps1 wrap it for users of the
 * original scripts.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { localBaseUrl, signingSecret } from "../local/defaults";
import { parseDuration } from "../rollout/plan";
import { runSmoke } from "../smoke/run-smoke";
import { UsageError } from "../usage-error";
import type { Command } from "./command";

export const smoke: Command = {
	summary: "smoke-test a running deployment: health, register, signed webhook, credit, transactions",
	help: `usage: npm run ops -- smoke [--host <url>] [options]

  1. GET  /api/v1/health                      the Worker answers
  2. POST /api/v1/auth/register               a fresh player (random name and password)
  3. POST /api/v1/login                       its token
  4. POST /api/v1/webhooks/<chain>            a deposit for that player, signed (Standard Webhooks)
  5. GET  /api/v1/transactions/<tx_id>        polled until the deposit is credited
  6. GET  /api/v1/transactions?type=deposit   the ledger row is there, with the exact amount

Every step's status and timing go into a JSON artifact (--out).

  --host <url>          the edge Worker (default ${localBaseUrl()}, the local stack)
  --secret <whsec_…>    webhook signing secret (default: first of $WEBHOOK_SECRETS, else the
                        local stack's)
  --chain <chain>       bep20 | erc20 | trc20 (default bep20)
  --amount <decimal>    deposit amount (default 0.001, as the original)
  --timeout <duration>  how long to wait for the credit (default 60s)
  --interval <duration> between status polls (default 1s)
  --out <file>          JSON artifact (default smoke-result.json)
  --health-only         only step 1: for production, where a test deposit has no place

Exit codes (2 and 3 as the original smoke_and_checks.sh):
  0  every step passed
  2  health check failed (or the host cannot be reached)
  3  the webhook was not accepted (202)
  4  registration or login failed
  5  the deposit was not credited in time, or ended in another state
  6  the transactions list does not show the credit`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				host: { type: "string", default: localBaseUrl() },
				secret: { type: "string" },
				chain: { type: "string", default: "bep20" },
				amount: { type: "string", default: "0.001" },
				timeout: { type: "string", default: "60s" },
				interval: { type: "string", default: "1s" },
				out: { type: "string", default: "smoke-result.json" },
				"health-only": { type: "boolean", default: false },
			},
		});
		if (!/^https?:\/\/[^\s/]+/.test(values.host)) {
			throw new UsageError(
				`--host must be an http(s) URL such as https://api.example.com, not "${values.host}"`,
			);
		}
		if (!/^(0|[1-9]\d*)(\.\d+)?$/.test(values.amount)) {
			throw new UsageError(`--amount must be a decimal such as 0.001, not "${values.amount}"`);
		}
		const secret = values.secret ?? signingSecret();
		if (!secret.startsWith("whsec_")) {
			throw new UsageError("--secret must be a Standard Webhooks secret (whsec_…), as in WEBHOOK_SECRETS");
		}
		console.log(`smoke test of ${values.host}${values["health-only"] ? " (health only)" : ""}`);
		const result = await runSmoke({
			host: values.host,
			secret,
			chain: values.chain,
			amount: values.amount,
			creditTimeoutMs: parseDuration("--timeout", values.timeout),
			pollIntervalMs: parseDuration("--interval", values.interval),
			healthOnly: values["health-only"],
			log: (line) => console.log(line),
		});
		mkdirSync(dirname(values.out), { recursive: true });
		writeFileSync(values.out, `${JSON.stringify(result, null, 2)}\n`);
		console.log(
			result.status === "passed"
				? `smoke test passed; artifact: ${values.out}`
				: `smoke test FAILED at ${result.failed_step} (exit ${result.exit_code}); artifact: ${values.out}`,
		);
		return result.exit_code;
	},
};
