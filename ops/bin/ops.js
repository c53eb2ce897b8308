#!/usr/bin/env node
// The `ops` bin: runs the TypeScript CLI through tsx, with the arguments given.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const cli = fileURLToPath(new URL("../cli.ts", import.meta.url));
// Ctrl-C reaches the CLI too (same process group): let it report and exit, then exit with it.
process.on("SIGINT", () => {});
const result = spawnSync(
	process.execPath,
	["--import", require.resolve("tsx"), cli, ...process.argv.slice(2)],
	{
		stdio: "inherit",
	},
);
process.exit(result.status ?? 1);
