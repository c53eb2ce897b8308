/**
 * The deposit plan that k6 and the local load run share, and the UUIDv5 that k6's settlement
 * check uses to find each deposit: the ids must be the ones the edge Worker answers, and the
 * traffic must be what the README promises (shares of redeliveries and staged deposits, every
 * deposit ending with a crediting webhook).
 */
import { createHash } from "node:crypto";
import fc from "fast-check";
import { v5 as uuidv5 } from "uuid";
import { describe, expect, it } from "vitest";
import { AMOUNT_PATTERN } from "../../schema/queue-message";
import { DEPOSIT_NAMESPACE as EDGE_NAMESPACE, depositTxId as edgeTxId } from "../../schema/tx-id";
import { type Delivery, DepositPlan, firstDeliveries } from "../k6/lib/deposit-plan";
import { DEPOSIT_NAMESPACE, depositTxId, uuidV5 } from "../k6/lib/uuid-v5";

const sha1 = (bytes: ArrayBuffer) => {
	const digest = createHash("sha1").update(new Uint8Array(bytes)).digest();
	return digest.buffer.slice(digest.byteOffset, digest.byteOffset + digest.byteLength);
};

const users = ["9f1c2d3e-0000-4000-8000-000000000001", "9f1c2d3e-0000-4000-8000-000000000002"];
const plan = (runId = "run1", duplicateShare = 0.1, stagedShare = 0.2) =>
	new DepositPlan({
		runId,
		chain: "bep20",
		userIds: users,
		duplicateShare,
		stagedShare,
		requiredConfirmations: 12,
	});

describe("uuidV5 for k6", () => {
	it("equals the uuid package for any name", () => {
		fc.assert(
			fc.property(fc.string({ unit: "grapheme", maxLength: 80 }), (name) => {
				expect(uuidV5(name, DEPOSIT_NAMESPACE, sha1)).toBe(uuidv5(name, DEPOSIT_NAMESPACE));
			}),
		);
	});

	it("gives the tx_id the edge Worker answers, whatever the hash's case and spaces", async () => {
		expect(DEPOSIT_NAMESPACE).toBe(EDGE_NAMESPACE);
		for (const txHash of [`0x${"ab".repeat(32)}`, ` 0X${"AB".repeat(32)} `, plan().txHash(7)]) {
			for (const logIndex of [0, 3]) {
				expect(depositTxId("bep20", txHash, logIndex, sha1)).toBe(await edgeTxId("bep20", txHash, logIndex));
			}
		}
	});
});

describe("deposit plan", () => {
	const total = 20_000;
	const deliveries = firstDeliveries(plan(), total);
	const byKind = (kind: Delivery["kind"]) => deliveries.filter((d) => d.kind === kind);

	it("sends exactly the number of webhooks asked for, 10 % of them redeliveries", () => {
		expect(deliveries).toHaveLength(total);
		const redeliveries = byKind("network-retry").length + byKind("watcher-retry").length;
		expect(redeliveries / total).toBeGreaterThan(0.09);
		expect(redeliveries / total).toBeLessThan(0.11);
		// Both kinds of retry, about half each.
		expect(byKind("network-retry").length / redeliveries).toBeGreaterThan(0.4);
		expect(byKind("watcher-retry").length / redeliveries).toBeGreaterThan(0.4);
	});

	it("ends every deposit with a crediting webhook, and stages about 20 % of them, some out of order", () => {
		const finals = new Map(byKind("final").map((d) => [d.deposit, d]));
		const deposits = new Set(deliveries.map((d) => d.deposit));
		expect([...deposits].every((d) => finals.has(d))).toBe(true);
		const staged = byKind("low");
		expect(staged.length / finals.size).toBeGreaterThan(0.17);
		expect(staged.length / finals.size).toBeLessThan(0.23);
		const position = new Map(deliveries.map((d, k) => [`${d.deposit}:${d.kind}`, k]));
		const outOfOrder = staged.filter(
			(d) => (position.get(`${d.deposit}:final`) ?? 0) < (position.get(`${d.deposit}:low`) ?? 0),
		);
		expect(outOfOrder.length / staged.length).toBeGreaterThan(0.4);
		expect(outOfOrder.length / staged.length).toBeLessThan(0.6);
	});

	it("redelivers an earlier deposit's final webhook byte for byte, with the same or a new webhook-id", () => {
		const finals = new Map(byKind("final").map((d) => [d.deposit, d]));
		for (const retry of [...byKind("network-retry"), ...byKind("watcher-retry")]) {
			const original = finals.get(retry.deposit);
			expect(original).toBeDefined();
			expect(retry.body).toBe(original?.body);
			if (retry.kind === "network-retry") expect(retry.webhookId).toBe(original?.webhookId);
			else expect(retry.webhookId).not.toBe(original?.webhookId);
		}
	});

	it("writes bodies the edge accepts: exact decimal amounts, low then enough confirmations, existing users", () => {
		for (const d of deliveries.slice(0, 500)) {
			const body = JSON.parse(d.body);
			expect(body.amount).toMatch(AMOUNT_PATTERN);
			expect(body.tx_hash).toMatch(/^0x[0-9a-f]{64}$/);
			expect(users).toContain(body.user_id);
			if (d.kind === "low") expect(body).toMatchObject({ status: "pending", confirmations: 3 });
			else expect(body).toMatchObject({ status: "confirmed", confirmations: 12 });
		}
	});

	it("is the same plan for the same run id (what lets k6 VUs and the final check agree)", () => {
		expect(firstDeliveries(plan("run1"), 300)).toEqual(firstDeliveries(plan("run1"), 300));
		const hashes = (p: DepositPlan) =>
			new Set(firstDeliveries(p, 300).map((d) => JSON.parse(d.body).tx_hash));
		const a = hashes(plan("run1"));
		expect([...hashes(plan("run2"))].some((h) => a.has(h))).toBe(false);
	});

	it("has no redeliveries and no staging when the shares are 0", () => {
		const plain = firstDeliveries(plan("run3", 0, 0), 1000);
		expect(plain.every((d) => d.kind === "final")).toBe(true);
		expect(new Set(plain.map((d) => d.deposit)).size).toBe(1000);
	});

	it("refuses shares outside their range", () => {
		expect(() => plan("x", 0.6)).toThrow(/duplicateShare/);
		expect(() => plan("x", 0.1, 1.5)).toThrow(/stagedShare/);
	});
});
