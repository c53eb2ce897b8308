/**
 * The system end to end, as `npm start` runs it: wrangler dev with both Workers, the local
 * queue between them, the Neon driver, the local Neon endpoint and Postgres. A signed webhook
 * sent over HTTP must come out as a row in Postgres. Nothing of ours is mocked.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { neon, neonConfig } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type LocalStack, startLocalStack } from "../local/stack";
import { signWebhook } from "../webhook-signing";

let stack: LocalStack;
const scratch = mkdtempSync(join(tmpdir(), "cricalgo-stack-"));

beforeAll(async () => {
	stack = await startLocalStack({
		edgePort: 0,
		neonPort: 0,
		// A real Postgres when the run has one (the node project's database), else embedded.
		databaseUrl: process.env.TEST_DATABASE_URL ? inject("databaseUrls").node : undefined,
		dataDir: join(scratch, "pglite"),
		persistTo: join(scratch, "wrangler-state"),
	});
	neonConfig.fetchEndpoint = stack.neonEndpoint;
});

afterAll(async () => {
	await stack?.stop();
	rmSync(scratch, { recursive: true, force: true });
});

async function waitFor<T>(probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`nothing after ${timeoutMs} ms`);
		await new Promise((r) => setTimeout(r, 200));
	}
}

describe("local stack", () => {
	it("answers the health check", async () => {
		const res = await fetch(`${stack.baseUrl}/api/v1/health`);
		expect(res.status).toBe(200);
		expect(await res.json()).toMatchObject({ status: "ok" });
	});

	it("carries a signed webhook through the queue into Postgres", async () => {
		const txHash = `0x${"ab".repeat(32)}`;
		const { headers, body } = signWebhook(stack.webhookSecret, {
			tx_hash: txHash,
			amount: "42.125",
			confirmations: 3,
			chain: "bep20",
			currency: "USDT",
		});
		const res = await fetch(`${stack.baseUrl}/api/v1/webhooks/bep20`, { method: "POST", headers, body });
		expect(res.status).toBe(202);
		const { ok, tx_id } = (await res.json()) as { ok: boolean; tx_id: string };
		expect(ok).toBe(true);

		const sql = neon(stack.databaseUrl);
		const row = await waitFor(async () => {
			const rows = await sql.query("SELECT id, tx_hash, amount, webhook_id FROM deposits WHERE id = $1", [
				tx_id,
			]);
			return rows[0];
		});
		expect(row).toMatchObject({
			id: tx_id,
			tx_hash: txHash,
			amount: "42.12500000",
			webhook_id: headers["webhook-id"],
		});
	});
});
