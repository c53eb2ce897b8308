/**
 * The local stack for a Node test: free ports (its chain's too), throw-away folders, and the
 * node project's database when the run has a real Postgres (embedded PGlite otherwise). The
 * node project runs its files one at a time on that one database, so each stack starts it
 * empty: a file's counts and lists never see what an earlier file left. The Neon driver in the
 * test process is pointed at the stack's endpoint.
 *
 * @module
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neonConfig } from "@neondatabase/serverless";
import { inject } from "vitest";
import { resetDatabase } from "../../../test/support/database";
import { type LocalStack, startLocalStack } from "../../local/stack";

/**
 * Starts a stack; `stop()` also removes its folders. Its consumer trusts signed webhooks
 * (`sender` mode) unless told otherwise: most stack tests send synthetic ones.
 */
export async function startTestStack(
	name: string,
	options: { chainVerification?: "chain" | "sender"; vars?: Record<string, string> } = {},
): Promise<LocalStack> {
	const scratch = mkdtempSync(join(tmpdir(), `cricalgo-${name}-`));
	try {
		const stack = await startLocalStack({
			edgePort: 0,
			neonPort: 0,
			chainPort: 0,
			chainVerification: options.chainVerification ?? "sender",
			vars: options.vars,
			databaseUrl: process.env.TEST_DATABASE_URL ? inject("databaseUrls").node : undefined,
			dataDir: join(scratch, "pglite"),
			persistTo: join(scratch, "wrangler-state"),
		});
		neonConfig.fetchEndpoint = stack.neonEndpoint;
		await resetDatabase({ DATABASE_URL: stack.databaseUrl, NEON_HTTP_ENDPOINT: stack.neonEndpoint });
		return {
			...stack,
			async stop() {
				await stack.stop();
				rmSync(scratch, { recursive: true, force: true });
			},
		};
	} catch (error) {
		rmSync(scratch, { recursive: true, force: true });
		throw error;
	}
}
