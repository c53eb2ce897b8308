/**
 * The operations CLI: `npm run ops -- <command> [options]` (or the `ops` bin).
 * Each command lives in `ops/commands/<name>.ts` and is listed here once.
 *
 * @module
 */
import { addresses } from "./commands/addresses";
import { admin } from "./commands/admin-create";
import { adopt } from "./commands/adopt";
import { alerts } from "./commands/alerts";
import type { Command } from "./commands/command";
import { deposits } from "./commands/deposits";
import { dlq } from "./commands/dlq";
import { handBackCommand } from "./commands/hand-back";
import { migrate } from "./commands/migrate";
import { reconcile } from "./commands/reconcile";
import { rollback } from "./commands/rollback";
import { rollout } from "./commands/rollout";
import { sendWebhook } from "./commands/send-webhook";
import { settlement } from "./commands/settlement";
import { shortfalls } from "./commands/shortfalls";
import { signWebhook } from "./commands/sign-webhook";
import { smoke } from "./commands/smoke";
import { UsageError } from "./usage-error";

const COMMANDS: Record<string, Command> = {
	admin,
	migrate,
	adopt,
	reconcile,
	"hand-back": handBackCommand,
	webhook: sendWebhook,
	sign: signWebhook,
	rollout,
	rollback,
	alerts,
	smoke,
	dlq,
	deposits,
	settlement,
	shortfalls,
	addresses,
};

function usage(): string {
	const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
	const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
	return `usage: npm run ops -- <command> [options]\n\ncommands:\n${lines.join("\n")}\n\n'npm run ops -- <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<number> {
	const [name, ...args] = argv;
	if (!name || name === "--help" || name === "-h" || name === "help") {
		console.log(usage());
		return name ? 0 : 2;
	}
	const command = COMMANDS[name];
	if (!command) {
		console.error(`unknown command "${name}"\n\n${usage()}`);
		return 2;
	}
	if (args.includes("--help") || args.includes("-h")) {
		console.log(command.help);
		return 0;
	}
	return command.run(args);
}

main(process.argv.slice(2)).then(
	(code) => {
		process.exitCode = code;
	},
	(error: unknown) => {
		console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
		process.exitCode = error instanceof UsageError ? 2 : 1;
	},
);
