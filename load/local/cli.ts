/**
 * `npm run load -- [options]`: the local load run (see load/README.md, "Local load run").
 * Prints progress while it runs, the figures at the end, and writes a chart (HTML) and the
 * raw result (JSON) under load/results/.
 *
 * @module
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_NEON_PORT, LOCAL_DATABASE, signingSecret } from "../../ops/local/defaults";
import { renderChart } from "./chart";
import { createProgress } from "./progress";
import { formatFigures, runPassed } from "./report";
import { type LocalLoadOptions, runLocalLoad } from "./run";

const HELP = `usage: npm run load -- [options]

Sends N signed deposit webhooks (with redeliveries and out-of-order confirmations) at an
open-model rate, waits until every deposit is credited, checks exactly-once and the ledger
invariants, prints the figures and writes a chart. Without --url it starts its own stack
(embedded Postgres, or a fresh database on --postgres) on free ports and stops it after.

  --webhooks <n>          webhooks to send (default 20000)
  --duplicates <share>    share of webhooks that are redeliveries (default 0.1)
  --staged <share>        share of deposits sent low-then-enough, half out of order (default 0.2)
  --rate <n>              webhooks started per second (default 100)
  --in-flight <n>         at most this many requests at once (default 1024)
  --players <n>           players the deposits are spread over (default 200)
  --settle-timeout <s>    how long to wait for every deposit to be credited (default 300)
  --postgres <url>        without --url: create the run's database on this Postgres server
  --url <base>            a running stack's edge Worker instead, e.g. npm start's
                          http://127.0.0.1:8787; signs with the first of $WEBHOOK_SECRETS
  --database-url <url>    with --url: the database that stack settles into (default for a
                          stack on this machine: npm start's, $DATABASE_URL or the embedded one)
  --neon-endpoint <url>   with --url: the Neon HTTP endpoint serving it (default for a stack
                          on this machine: npm start's, http://127.0.0.1:$NEON_PORT/sql, port
                          4444); with --database-url alone, SQL goes straight to that Postgres
  --out <dir>             where the chart and the JSON go (default load/results)`;

function positive(name: string, raw: string | undefined, integer: boolean): number {
	const value = Number(raw);
	if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
		throw new Error(`--${name} must be a positive ${integer ? "integer" : "number"}, got "${raw}"`);
	}
	return value;
}

function share(name: string, raw: string | undefined, max: number): number {
	const value = Number(raw);
	if (!Number.isFinite(value) || value < 0 || value > max) {
		throw new Error(`--${name} must be a share between 0 and ${max}, got "${raw}"`);
	}
	return value;
}

/**
 * Where the run reads the ledger of a stack given by URL. For a stack on this machine the
 * default is `npm start`'s: its Neon endpoint, and its database (the endpoint only reads the
 * database name from the connection string).
 */
function databaseOf(url?: string, databaseUrl?: string, neonEndpoint?: string) {
	if (!url || databaseUrl) return { databaseUrl, neonEndpoint };
	const host = new URL(url).hostname;
	if (host !== "127.0.0.1" && host !== "localhost") {
		throw new Error(
			`--url ${url} is not on this machine: give --database-url (the database that stack settles into) to wait for settlement and check the ledger`,
		);
	}
	return {
		databaseUrl: process.env.DATABASE_URL || `postgresql://local@127.0.0.1/${LOCAL_DATABASE}`,
		neonEndpoint: neonEndpoint ?? `http://127.0.0.1:${process.env.NEON_PORT ?? DEFAULT_NEON_PORT}/sql`,
	};
}

async function main(argv: string[]): Promise<number> {
	const { values } = parseArgs({
		args: argv,
		options: {
			webhooks: { type: "string", default: "20000" },
			duplicates: { type: "string", default: "0.1" },
			staged: { type: "string", default: "0.2" },
			rate: { type: "string", default: "100" },
			"in-flight": { type: "string", default: "1024" },
			players: { type: "string", default: "200" },
			"settle-timeout": { type: "string", default: "300" },
			postgres: { type: "string" },
			url: { type: "string" },
			"database-url": { type: "string" },
			"neon-endpoint": { type: "string" },
			out: { type: "string", default: "load/results" },
			help: { type: "boolean", short: "h" },
		},
	});
	if (values.help) {
		console.log(HELP);
		return 0;
	}
	const options: LocalLoadOptions = {
		url: values.url,
		...databaseOf(values.url, values["database-url"], values["neon-endpoint"]),
		postgresUrl: values.postgres,
		webhookSecret: values.url
			? signingSecret()
			: process.env.WEBHOOK_SECRETS?.split(/[\s,]+/)[0] || undefined,
		webhooks: positive("webhooks", values.webhooks, true),
		duplicateShare: share("duplicates", values.duplicates, 0.5),
		stagedShare: share("staged", values.staged, 1),
		rate: positive("rate", values.rate, false),
		maxInFlight: positive("in-flight", values["in-flight"], true),
		players: positive("players", values.players, true),
		requestTimeoutMs: 10_000,
		settleTimeoutMs: positive("settle-timeout", values["settle-timeout"], false) * 1000,
		requiredConfirmations: 12,
	};

	const interrupt = new AbortController();
	process.once("SIGINT", () => {
		console.error("\ninterrupted: stopping the stack …");
		interrupt.abort(new Error("interrupted"));
	});
	const started = Date.now();
	const progress = createProgress();
	const result = await runLocalLoad({
		...options,
		signal: interrupt.signal,
		onPhase: (_phase, line) => progress.phase(line),
		onProgress: (phase, done, total) => progress.update(phase, done, total),
	});
	progress.stop();

	const figures = formatFigures(result, options);
	console.log(`\n${figures.join("\n")}\n`);
	const out = values.out as string;
	mkdirSync(out, { recursive: true });
	const stamp = new Date(started).toISOString().replace(/[:.]/g, "-");
	const chartPath = join(out, `local-load-${stamp}.html`);
	writeFileSync(
		chartPath,
		renderChart({
			title: `Local load run, ${result.webhooks} webhooks, ${new Date(started).toISOString()}`,
			figures: [...figures, "", `command: npm run load -- ${argv.join(" ")}`],
			ack: result.ackPoints,
			settle: result.settlePoints,
		}),
	);
	const { ackPoints: _a, settlePoints: _s, ...raw } = result;
	const jsonPath = join(out, `local-load-${stamp}.json`);
	writeFileSync(jsonPath, JSON.stringify({ command: argv, options, result: raw }, null, 2));
	console.log(`chart: ${relative(process.cwd(), chartPath)}\nfigures: ${relative(process.cwd(), jsonPath)}`);
	return runPassed(result) ? 0 : 1;
}

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		console.error(`\nerror: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = 1;
	},
);
