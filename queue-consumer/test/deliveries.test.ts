/**
 * The record of deliveries (`deposit_deliveries`): one row per settled queue message, written in
 * the settlement batch's transaction, so the operators' console can tell a deposit's story.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { again, createUser, deliver, depositMessage, depositRow, faults, sql } from "./support/consumer";

beforeEach(async () => {
	await faults.clear();
	await resetDatabase(env);
});
afterEach(() => faults.clear());

async function deliveries(txId: string) {
	return (await sql().query(
		`SELECT webhook_id, message_id, attempts, status, confirmations, amount::text AS amount, source,
			edge_version, received_at FROM deposit_deliveries WHERE deposit_id = $1 ORDER BY confirmations`,
		[txId],
	)) as {
		webhook_id: string;
		message_id: string;
		attempts: number;
		status: string;
		confirmations: number | null;
		amount: string;
		source: string | null;
		edge_version: string | null;
		received_at: string;
	}[];
}

describe("deposit deliveries", () => {
	it("records every delivery of a deposit with what it said, once per queue message", async () => {
		const user = await createUser();
		const first = await depositMessage({
			user_id: user,
			confirmations: 3,
			status: "pending",
			source: "cricalgo",
			edge_version: "edge-version-a",
		});
		const second = again(first, { confirmations: 12, status: "confirmed", edge_version: "edge-version-b" });
		await deliver([first], { ids: ["queue-message-1"] });
		await deliver([second], { ids: ["queue-message-2"], attempts: 2 });
		// The second message again, as after a lost ack: the same delivery, not a new one.
		await deliver([second], { ids: ["queue-message-2"], attempts: 3 });

		expect((await depositRow(first.tx_id))?.status).toBe("credited");
		const rows = await deliveries(first.tx_id);
		expect(rows.map((r) => [r.webhook_id, r.message_id, r.status, r.confirmations, r.edge_version])).toEqual([
			[first.webhook_id, "queue-message-1", "pending", 3, "edge-version-a"],
			[second.webhook_id, "queue-message-2", "confirmed", 12, "edge-version-b"],
		]);
		expect(rows[1]!.attempts).toBe(2);
		expect(rows[0]!.amount).toBe("25.50000000");
		expect(rows[0]!.source).toBe("cricalgo");
		expect(new Date(rows[0]!.received_at).toISOString()).toBe(first.received_at);
	});

	it("records nothing for a batch that fails and is retried", async () => {
		const m = await depositMessage({ user_id: await createUser() });
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0, onlyIfBodyIncludes: [m.tx_id] });
		const failed = await deliver([m]);
		expect(failed.retried.size).toBe(1);
		await faults.clear();
		expect(await deliveries(m.tx_id)).toEqual([]);
		await deliver([m]);
		expect(await deliveries(m.tx_id)).toHaveLength(1);
	});

	it("records a delivery for an unmatched deposit too, and none for a message that cannot be read", async () => {
		const unmatched = await depositMessage({ to_address: "0x00000000000000000000000000000000000000aa" });
		await deliver([unmatched, { v: 1, tx_id: "not-a-uuid" }]);
		expect((await depositRow(unmatched.tx_id))?.status).toBe("unmatched");
		expect(await deliveries(unmatched.tx_id)).toHaveLength(1);
		expect(Number((await sql().query("SELECT count(*) AS n FROM deposit_deliveries"))[0]!.n)).toBe(1);
	});
});
