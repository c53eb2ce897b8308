import { neon } from "@neondatabase/serverless";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../local/stack";
import { signWebhook } from "../webhook-signing";
import { startTestStack } from "./support/test-stack";

let stack: LocalStack;

beforeAll(async () => {
	stack = await startTestStack("stack");
});

afterAll(async () => {
	await stack?.stop();
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
