/**
 * Review of held deposits, through the real Worker, the real local queue and the real
 * consumer: the review queue (`GET /api/v1/admin/deposits?status=held`) with each hold's reason
 * and detail; a reject is final (never credited, whatever is delivered later); a release
 * confirms the owner fixed on the deposit and settles it once, or parks an ownerless one for an
 * assign; a held deposit is never credited by a delivery; of concurrent reviews exactly one
 * resolves the deposit, each attempt audited with its reviewer, reason and outcome.
 *
 * The held rows are written in SQL as settlement holds one (`status = 'held'`, `hold_reason`,
 * `hold_detail`): verification against the chain, which holds mismatching transfers, is
 * exercised by the consumer's own tests.
 */
import { env, exports } from "cloudflare:workers";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { assertLedgerInvariants } from "../../schema/ledger-invariants";
import { ledgerQuery, resetDatabase } from "../../test/support/database";
import { recordingQueue } from "../../test/support/queue";
import { randomTxHash, signedInit, WEBHOOK_URL, watcherDeposit } from "../../test/support/webhooks";
import {
	adminWithToken,
	call,
	count,
	expectError,
	json,
	registerUser,
	seedDeposit,
	sql,
} from "./support/accounts";

beforeEach(async () => {
	await resetDatabase(env);
});

const MISMATCH = {
	rpc: "http://127.0.0.1:8545",
	found: { amount: "1.5", to: "0x00000000000000000000000000000000000000aa" },
	claimed: { amount: "10.5" },
};

async function heldDeposit(userId: string | null, holdReason = "chain_mismatch") {
	const hash = randomTxHash();
	const txId = await seedDeposit({
		status: "held",
		userId,
		txHash: hash,
		amount: "10.5",
		confirmations: 15,
		holdReason,
		holdDetail: MISMATCH,
	});
	return { txId, hash };
}

type Row = { status: string; user_id: string | null };
async function deposit(txId: string): Promise<Row> {
	const [row] = await sql().query("SELECT status::text AS status, user_id FROM deposits WHERE id = $1", [
		txId,
	]);
	return row as Row;
}

async function credits(txId: string): Promise<number> {
	return count("transactions", "tx_type = 'deposit' AND related_id = $1", [txId]);
}

/**
 * Delivers the deposit again (final, many confirmations) through the real Worker and queue, and
 * waits until a later deposit sent after it is settled: the local queue hands messages to the
 * consumer in the order they were sent, so the redelivery has been settled by then.
 */
async function redeliverAndSettle(hash: string) {
	const marker = await registerUser();
	for (const body of [
		watcherDeposit({ tx_hash: hash, amount: "10.5", confirmations: 40 }),
		watcherDeposit({ user_id: marker.id, amount: "1" }),
	]) {
		expect((await exports.default.fetch(WEBHOOK_URL, signedInit(body))).status).toBe(202);
	}
	await vi.waitFor(
		async () => expect(await count("deposits", "user_id = $1 AND status = 'credited'", [marker.id])).toBe(1),
		{ timeout: 15_000, interval: 100 },
	);
}

const review = (txId: string, token: string, body: unknown) =>
	call(`/api/v1/admin/deposits/${txId}/review`, { token, body });

describe("the review queue", () => {
	it("lists held deposits with why they are held, filtered by status and reason", async () => {
		const admin = await adminWithToken();
		const owner = await registerUser();
		const mismatch = await heldDeposit(owner.id);
		const other = await heldDeposit(null, "reinclusion");
		await seedDeposit({ status: "credited", userId: owner.id });

		const held = await json(await call("/api/v1/admin/deposits?status=held", { token: admin.token }));
		expect(held.items.map((d: { tx_id: string }) => d.tx_id).sort()).toEqual(
			[mismatch.txId, other.txId].sort(),
		);
		expect(held.items.find((d: { tx_id: string }) => d.tx_id === mismatch.txId)).toMatchObject({
			status: "held",
			user_id: owner.id,
			amount: "10.50000000",
			hold_reason: "chain_mismatch",
			hold_detail: MISMATCH,
			review: null,
		});
		const byReason = await json(
			await call("/api/v1/admin/deposits?status=held&hold_reason=reinclusion", { token: admin.token }),
		);
		expect(byReason.items.map((d: { tx_id: string }) => d.tx_id)).toEqual([other.txId]);
		await expectError(
			await call("/api/v1/admin/deposits?status=lost", { token: admin.token }),
			422,
			"validation_failed",
		);
	});
});

describe("resolving a held deposit", () => {
	it("never credits a held deposit on a delivery, and a reject keeps it from ever being credited", async () => {
		const admin = await adminWithToken();
		const owner = await registerUser();
		const { txId, hash } = await heldDeposit(owner.id);

		await redeliverAndSettle(hash);
		expect(await deposit(txId)).toEqual({ status: "held", user_id: owner.id });
		expect(await credits(txId)).toBe(0);

		const res = await review(txId, admin.token, {
			decision: "reject",
			reason: "the chain shows 1.5 USDT to another address, not this transfer",
		});
		expect(res.status).toBe(200);
		const body = await json(res);
		expect(body).toMatchObject({ ok: true, tx_id: txId, outcome: "rejected", status: "rejected" });
		await redeliverAndSettle(hash);
		expect(await deposit(txId)).toEqual({ status: "rejected", user_id: owner.id });
		expect(await credits(txId)).toBe(0);

		const [audit] = await sql().query("SELECT admin_id, details FROM audit_logs WHERE id = $1", [
			body.audit_log_id,
		]);
		expect(audit).toMatchObject({
			admin_id: admin.id,
			details: {
				tx_id: txId,
				decision: "reject",
				outcome: "rejected",
				reason: "the chain shows 1.5 USDT to another address, not this transfer",
				status_before: "held",
				status_after: "rejected",
				hold_reason: "chain_mismatch",
				hold_detail: MISMATCH,
			},
		});
		const listed = await json(await call("/api/v1/admin/deposits?status=rejected", { token: admin.token }));
		expect(listed.items[0].review).toEqual({
			decision: "rejected",
			admin_id: admin.id,
			reason: "the chain shows 1.5 USDT to another address, not this transfer",
			at: expect.any(String),
		});
		// A second review finds it resolved.
		const again = await expectError(
			await review(txId, admin.token, {
				decision: "release",
				reason: "changed my mind, release",
				user_id: owner.id,
			}),
			409,
			"conflict",
		);
		expect(again.deposit_status).toBe("rejected");
		await assertLedgerInvariants(ledgerQuery(env), {});
	});

	it("releases to its owner only when the reviewer confirms the owner, and settles it once", async () => {
		const admin = await adminWithToken();
		const owner = await registerUser();
		const stranger = await registerUser();
		const { txId } = await heldDeposit(owner.id, "reinclusion");
		const reason = "the transfer is back in the canonical chain, block checked by hand";

		const unconfirmed = await expectError(
			await review(txId, admin.token, { decision: "release", reason }),
			422,
			"validation_failed",
		);
		expect(unconfirmed.fields).toEqual([{ path: "user_id", message: expect.stringContaining(owner.id) }]);
		const wrong = await expectError(
			await review(txId, admin.token, { decision: "release", reason, user_id: stranger.id }),
			409,
			"conflict",
		);
		expect(wrong.user_id).toBe(owner.id);
		expect(await deposit(txId)).toEqual({ status: "held", user_id: owner.id });

		const res = await review(txId, admin.token, { decision: "release", reason, user_id: owner.id });
		expect(res.status).toBe(202);
		expect(await json(res)).toMatchObject({ outcome: "released", status: "pending", user_id: owner.id });
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "credited", user_id: owner.id }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);
		expect(await credits(txId)).toBe(1);
		const [wallet] = await sql().query("SELECT deposit_balance::text AS b FROM wallets WHERE user_id = $1", [
			owner.id,
		]);
		expect(wallet).toEqual({ b: "10.50000000" });
		expect(await count("wallets", "user_id = $1 AND deposit_balance > 0", [stranger.id])).toBe(0);

		const outcomes = await sql().query(
			"SELECT details->>'outcome' AS outcome FROM audit_logs WHERE action = 'deposit.review' ORDER BY created_at",
		);
		expect(outcomes.map((o) => o.outcome)).toEqual(["refused", "refused", "released"]);
		await assertLedgerInvariants(ledgerQuery(env), {});
	});

	it("releases a deposit without an owner to unmatched, where an assign decides", async () => {
		const admin = await adminWithToken();
		const player = await registerUser();
		const { txId } = await heldDeposit(null, "reinclusion");
		const res = await review(txId, admin.token, {
			decision: "release",
			reason: "no owner: park it for an assign",
		});
		expect(res.status).toBe(200);
		expect(await json(res)).toMatchObject({ outcome: "released", status: "unmatched", user_id: null });
		const assigned = await call(`/api/v1/admin/deposits/${txId}/assign`, {
			token: admin.token,
			body: { user_id: player.id },
		});
		expect(assigned.status).toBe(202);
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "credited", user_id: player.id }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);
		expect(await credits(txId)).toBe(1);
	});

	it("lets exactly one of concurrent reviews resolve the deposit, and audits every attempt", async () => {
		const admin = await adminWithToken();
		const reviewers = [admin, await adminWithToken(), await adminWithToken()];
		const owner = await registerUser();
		const { txId } = await heldDeposit(owner.id);
		const attempts = [0, 1, 2, 3, 4, 5].map((i) =>
			review(
				txId,
				reviewers[i % 3]!.token,
				i % 2
					? { decision: "release", reason: `reviewer ${i}: the chain agrees now`, user_id: owner.id }
					: { decision: "reject", reason: `reviewer ${i}: the chain disagrees` },
			),
		);
		const answers = await Promise.all(attempts);
		const statuses = answers.map((a) => a.status);
		const won = statuses.filter((s) => s === 200 || s === 202);
		expect(won).toHaveLength(1);
		expect(statuses.filter((s) => s === 409)).toHaveLength(5);
		const winner = statuses.findIndex((s) => s === 200 || s === 202);
		const outcome = winner % 2 ? "released" : "rejected";

		const audit = await sql().query(
			"SELECT details->>'outcome' AS outcome, details->>'reason' AS reason FROM audit_logs WHERE action = 'deposit.review'",
		);
		expect(audit).toHaveLength(6);
		expect(audit.filter((a) => a.outcome !== "refused")).toEqual([
			{ outcome, reason: expect.stringContaining(`reviewer ${winner}:`) },
		]);
		const [row] = await sql().query("SELECT review_decision, review_reason FROM deposits WHERE id = $1", [
			txId,
		]);
		expect(row).toEqual({
			review_decision: outcome,
			review_reason: expect.stringContaining(`reviewer ${winner}:`),
		});
		if (outcome === "released") {
			await vi.waitFor(async () => expect((await deposit(txId)).status).toBe("credited"), {
				timeout: 15_000,
				interval: 100,
			});
			expect(await credits(txId)).toBe(1);
		} else {
			expect((await deposit(txId)).status).toBe("rejected");
			expect(await credits(txId)).toBe(0);
		}
	});

	it("refuses a review without a reason, of a deposit not held, or of none, changing nothing", async () => {
		const admin = await adminWithToken();
		const owner = await registerUser();
		const { txId } = await heldDeposit(owner.id);
		for (const body of [
			{ decision: "reject" },
			{ decision: "reject", reason: "  short  " },
			{ decision: "approve", reason: "a long enough reason" },
			{ decision: "reject", reason: "a long enough reason", user_id: owner.id },
		]) {
			await expectError(await review(txId, admin.token, body), 422, "validation_failed");
		}
		await expectError(
			await review("not-a-uuid", admin.token, { decision: "reject", reason: "a long enough reason" }),
			422,
			"validation_failed",
		);
		await expectError(
			await review(crypto.randomUUID(), admin.token, { decision: "reject", reason: "a long enough reason" }),
			404,
			"not_found",
		);
		const credited = await seedDeposit({ status: "credited", userId: owner.id });
		const notHeld = await expectError(
			await review(credited, admin.token, { decision: "reject", reason: "a long enough reason" }),
			409,
			"conflict",
		);
		expect(notHeld.deposit_status).toBe("credited");
		expect(await deposit(txId)).toEqual({ status: "held", user_id: owner.id });
		expect(await count("deposits", "status = 'credited'")).toBe(1);
	});
});

describe("a release the queue refused", () => {
	it("answers 503 and stands; the same reviewer's retry sends it, another reviewer's is refused", async () => {
		const admin = await adminWithToken();
		const other = await adminWithToken();
		const owner = await registerUser();
		const { txId } = await heldDeposit(owner.id, "reinclusion");
		const reason = "the transfer is back in the canonical chain";
		const down = recordingQueue({ fail: true });
		const failed = await call(`/api/v1/admin/deposits/${txId}/review`, {
			token: admin.token,
			body: { decision: "release", reason, user_id: owner.id },
			envOverrides: { DEPOSITS: down.queue },
		});
		await expectError(failed, 503, "service_unavailable");
		expect(failed.headers.get("retry-after")).toBe("5");
		expect(await deposit(txId)).toEqual({ status: "pending", user_id: owner.id });
		await expectError(
			await review(txId, other.token, { decision: "release", reason, user_id: owner.id }),
			409,
			"conflict",
		);
		const retry = await review(txId, admin.token, { decision: "release", reason, user_id: owner.id });
		expect(retry.status).toBe(202);
		expect((await json(retry)).outcome).toBe("already_released");
		await vi.waitFor(
			async () => expect(await deposit(txId)).toEqual({ status: "credited", user_id: owner.id }),
			{
				timeout: 15_000,
				interval: 100,
			},
		);
		expect(await credits(txId)).toBe(1);
		const actions = await sql().query(
			"SELECT action, details->>'outcome' AS outcome FROM audit_logs WHERE action LIKE 'deposit.review%' ORDER BY created_at",
		);
		expect(actions).toEqual([
			{ action: "deposit.review", outcome: "released" },
			{ action: "deposit.review_failed", outcome: null },
			{ action: "deposit.review", outcome: "refused" },
			{ action: "deposit.review", outcome: "already_released" },
		]);
	});
});
