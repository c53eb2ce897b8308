/**
 * `POST /api/v1/admin/deposits/attribute` refusals, each changing nothing (no owner written, no
 * message sent): bad input (422), a player who does not hold the address (409 naming the
 * holder), a listed deposit that is not movable (409 listing why, audited as refused); a queue
 * outage (503: the attribution stands, the same apply sends it); an attribute racing an assign
 * for one deposit (one wins).
 */
import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import { recordingQueue } from "../../test/support/queue";
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
import { randomEvmAddress, seedAddress } from "./support/addresses";

beforeEach(async () => {
	await resetDatabase(env);
});

/** A player holding an address, and two deposits parked for it. */
async function parkedForHolder() {
	const admin = await adminWithToken();
	const player = await registerUser();
	const address = randomEvmAddress();
	await seedAddress(player.id, "evm", address);
	const ids = [
		await seedDeposit({ status: "unmatched", toAddress: address, confirmations: 12 }),
		await seedDeposit({ status: "unmatched", toAddress: address, confirmations: 12, chain: "erc20" }),
	];
	return { admin, player, address, ids };
}

const attribute = (token: string, body: unknown, envOverrides = { DEPOSITS: recordingQueue().queue }) =>
	call("/api/v1/admin/deposits/attribute", { token, body, envOverrides });

async function owners(ids: string[]) {
	const rows = await sql().query("SELECT user_id FROM deposits WHERE id = ANY ($1::uuid[])", [ids]);
	return rows.map((r) => r.user_id);
}

describe("attribute refusals", () => {
	it("refuses bad input with 422", async () => {
		const { admin, player, address, ids } = await parkedForHolder();
		const base = { chain: "bep20", address, user_id: player.id };
		for (const body of [
			{ ...base, apply: true },
			{ ...base, tx_ids: ids },
			{ ...base, apply: true, tx_ids: [] },
			{ ...base, apply: true, tx_ids: [ids[0], ids[0]] },
			{ ...base, apply: true, tx_ids: ["nope"] },
			{ ...base, address: "0x1234" },
			{ ...base, chain: "doge" },
			{ ...base, user_id: crypto.randomUUID() },
			{ ...base, apply: "yes", tx_ids: ids },
		]) {
			await expectError(await attribute(admin.token, body), 422, "validation_failed");
		}
		expect(await owners(ids)).toEqual([null, null]);
		expect(await count("audit_logs", "action LIKE 'deposit.%'")).toBe(0);
	});

	it("moves deposits only to the address's holder (409 naming the holder)", async () => {
		const { admin, player, address, ids } = await parkedForHolder();
		const other = await registerUser();
		for (const body of [
			{ chain: "bep20", address, user_id: other.id },
			{ chain: "bep20", address, user_id: other.id, apply: true, tx_ids: ids },
		]) {
			const error = await expectError(await attribute(admin.token, body), 409, "conflict");
			expect(error.holder_user_id).toBe(player.id);
		}
		const nobody = randomEvmAddress();
		const unheld = await expectError(
			await attribute(admin.token, { chain: "bep20", address: nobody, user_id: other.id }),
			409,
			"conflict",
		);
		expect(unheld.holder_user_id).toBeNull();
		expect(await owners(ids)).toEqual([null, null]);
	});

	it("moves none when one listed deposit cannot move, and says why for each", async () => {
		const { admin, player, address, ids } = await parkedForHolder();
		const credited = await seedDeposit({ status: "credited", userId: player.id, toAddress: address });
		const elsewhere = await seedDeposit({ status: "unmatched", toAddress: randomEvmAddress() });
		const missing = crypto.randomUUID();
		const { queue, sent } = recordingQueue();
		const error = await expectError(
			await attribute(
				admin.token,
				{
					chain: "bep20",
					address,
					user_id: player.id,
					apply: true,
					tx_ids: [...ids, credited, elsewhere, missing],
				},
				{ DEPOSITS: queue },
			),
			409,
			"conflict",
		);
		expect(error.refused).toEqual([
			{ tx_id: credited, reason: "the deposit is credited", status: "credited" },
			{ tx_id: elsewhere, reason: "the deposit was not made to this address", status: "unmatched" },
			{ tx_id: missing, reason: "no deposit with this tx_id" },
		]);
		expect(sent).toEqual([]);
		expect(await owners([...ids, elsewhere])).toEqual([null, null, null]);
		const [audit] = await sql().query("SELECT details FROM audit_logs WHERE action = 'deposit.attribute'");
		expect(audit!.details).toMatchObject({ outcome: "refused", deposits: [], user_id: player.id });
	});

	it("answers 503 when the queue refuses; the attribution stands and the same apply sends it", async () => {
		const { admin, player, address, ids } = await parkedForHolder();
		const body = { chain: "bep20", address, user_id: player.id, apply: true, tx_ids: ids };
		const res = await attribute(admin.token, body, { DEPOSITS: recordingQueue({ fail: true }).queue });
		await expectError(res, 503, "service_unavailable");
		expect(res.headers.get("retry-after")).toBe("5");
		expect(await owners(ids)).toEqual([player.id, player.id]);
		// Still parked: the dry run lists only deposits nobody holds.
		const plan = await json(await attribute(admin.token, { chain: "bep20", address, user_id: player.id }));
		expect(plan.deposits).toEqual([]);
		const { queue, sent } = recordingQueue();
		const retry = await attribute(admin.token, body, { DEPOSITS: queue });
		expect(retry.status).toBe(202);
		expect(sent.map((m) => [m.tx_id, m.user_id, m.webhook_id.startsWith("admin-attribute:")]).sort()).toEqual(
			ids.map((id) => [id, player.id, true]).sort(),
		);
		const actions = await sql().query(
			"SELECT action FROM audit_logs WHERE action LIKE 'deposit.%' ORDER BY created_at",
		);
		expect(actions.map((a) => a.action)).toEqual([
			"deposit.attribute",
			"deposit.attribute_failed",
			"deposit.attribute",
		]);
	});

	it("lets one of an attribute and a concurrent assign to another player win", async () => {
		const { admin, player, address, ids } = await parkedForHolder();
		const other = await registerUser();
		const { queue, sent } = recordingQueue();
		const [applied, assigned] = await Promise.all([
			attribute(
				admin.token,
				{ chain: "bep20", address, user_id: player.id, apply: true, tx_ids: ids },
				{ DEPOSITS: queue },
			),
			call(`/api/v1/admin/deposits/${ids[0]}/assign`, {
				token: admin.token,
				body: { user_id: other.id },
				envOverrides: { DEPOSITS: queue },
			}),
		]);
		expect([applied.status, assigned.status].sort()).toEqual([202, 409]);
		const winner = applied.status === 202 ? player.id : other.id;
		expect((await owners([ids[0]!]))[0]).toBe(winner);
		expect(new Set(sent.filter((m) => m.tx_id === ids[0]).map((m) => m.user_id))).toEqual(new Set([winner]));
	});
});
