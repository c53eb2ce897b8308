/**
 * Settlement verified on the real local chain (anvil, the local USDT-like token), through the
 * consumer's real `queue` and `scheduled` handlers: forged deposits held and never credited,
 * a real transfer credited once when the chain says it is final (no second webhook), a reorg
 * after credit reversed, an endpoint down then back.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { encodeFunctionData, erc20Abi, type Hex } from "viem";
import { describe, expect, it } from "vitest";
import worker from "../src/index";
import {
	chainModeEnv,
	local,
	miner,
	proxyPath,
	randomAddress,
	randomTxHash,
	reader,
	type Sent,
	send,
	sendUsdt,
	transferData,
} from "./support/chain";
import {
	balance,
	checkLedger,
	createUser,
	deliver,
	depositMessage,
	depositRow,
	ledgerRows,
	recordingMetrics,
	registerAddress,
	sql,
} from "./support/consumer";

const chainEnv = chainModeEnv(env);

/** A player holding a fresh address. */
async function player(): Promise<{ userId: string; address: Hex }> {
	const userId = await createUser();
	const address = randomAddress();
	await registerAddress(userId, address);
	return { userId, address };
}

/** The message a watcher sends for a transfer it saw. */
function messageFor(sent: Sent, over: Parameters<typeof depositMessage>[0] = {}) {
	return depositMessage({
		tx_hash: sent.hash,
		log_index: sent.logIndexes[0]!,
		block_number: String(sent.blockNumber),
		confirmations: 12,
		status: "confirmed",
		...over,
	});
}

async function held(txId: string) {
	const [row] = await sql().query(
		"SELECT status::text, hold_reason, hold_detail, user_id, to_address FROM deposits WHERE id = $1",
		[txId],
	);
	return row as
		| {
				status: string;
				hold_reason: string | null;
				hold_detail: { mismatch: string; chain: { found: boolean }; claimed: { amount: string } } | null;
				user_id: string | null;
				to_address: string | null;
		  }
		| undefined;
}

/** Runs the cron trigger's handler, as Cloudflare does once a minute. */
async function scheduled(e: Env = chainEnv): Promise<void> {
	await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), e);
}

/** Runs the re-check until `done` holds (other suites' deposits may share its first runs). */
async function recheckUntil(done: () => Promise<boolean>, runs = 30): Promise<void> {
	for (let run = 0; run < runs; run++) {
		await scheduled();
		if (await done()) return;
	}
	throw new Error(`still not done after ${runs} re-check runs`);
}

async function statusOf(txId: string): Promise<string | undefined> {
	return (await depositRow(txId))?.status;
}

describe("settlement verified on the local chain", () => {
	it("never credits forged deposits with a valid signature: each is held with what the chain says", async () => {
		const alice = await player();
		const [real1, real2, real3, real4] = [
			await sendUsdt(alice.address, "25.5"),
			await sendUsdt(alice.address, "25.5"),
			await sendUsdt(alice.address, "25.5"),
			await sendUsdt(alice.address, "25.5"),
		];
		// A player with no deposit address at all.
		const mallory = await createUser();
		const other = await send(local.otherToken, transferData(alice.address, "25.5", 18));
		const failed = await send(
			local.tokens.bep20.address,
			// More than the sender holds: the token reverts, the transaction is mined as failed.
			encodeFunctionData({
				abi: erc20Abi,
				functionName: "transfer",
				args: [alice.address, 10n ** 40n],
			}),
		);
		expect(failed.status).toBe("reverted");
		const bob = await player();
		await miner.mine({ blocks: 12 });
		const metrics = recordingMetrics();
		const forged = [
			// No such transaction on the chain.
			[await depositMessage({ tx_hash: randomTxHash(), to_address: alice.address }), "not_found"],
			// A real transfer, another amount.
			[await messageFor(real1, { amount: "2550", to_address: alice.address }), "other_amount"],
			// A real transfer, claimed for another player's address.
			[await messageFor(real2, { amount: "25.5", to_address: bob.address }), "other_recipient"],
			// A real transfer to Alice, attributed by user_id to Bob.
			[await messageFor(real3, { amount: "25.5", user_id: bob.userId, to_address: null }), "other_recipient"],
			// The same, for a player who holds no address: nothing the chain says can match.
			[await messageFor(real4, { amount: "25.5", user_id: mallory, to_address: null }), "other_recipient"],
			// Another token's transfer.
			[await messageFor(other, { to_address: alice.address }), "other_token"],
			// A failed transaction.
			[
				await depositMessage({
					tx_hash: failed.hash,
					log_index: 0,
					block_number: String(failed.blockNumber),
					to_address: alice.address,
				}),
				"failed",
			],
		] as const;
		for (const [message, mismatch] of forged) {
			const delivery = await deliver([message], { env: { ...chainEnv, METRICS: metrics.binding } });
			expect(delivery.acked.size, mismatch).toBe(1);
			const row = await held(message.tx_id);
			expect(row?.status, mismatch).toBe("held");
			expect(row?.hold_reason).toBe("chain_mismatch");
			expect(row?.hold_detail?.mismatch).toBe(mismatch);
			expect(row?.user_id).toBeNull();
			expect(row?.to_address).toBeNull();
			expect(await ledgerRows(message.tx_id)).toEqual([]);
		}
		expect(await balance(alice.userId)).toBe("0.00000000");
		expect(await balance(bob.userId)).toBe("0.00000000");
		expect(await balance(mallory)).toBe("0.00000000");
		// Each forged message is recorded as held in the metrics (the ChainMismatch alert counts them).
		const settle = metrics.points.filter((p) => p.blobs[0] === "settle");
		expect(settle.map((p) => p.blobs[3])).toEqual(forged.map(() => "held"));

		// The chain's answer is kept for the reviewer.
		const notFound = await held(forged[0][0].tx_id);
		expect(notFound?.hold_detail?.chain.found).toBe(false);
		expect(notFound?.hold_detail?.claimed.amount).toBe(forged[0][0].amount);

		// The watcher's genuine webhook for a transfer a forged claim held first credits nothing
		// either: a held deposit waits for an admin's review (release re-verifies it), and the
		// held row names nobody.
		const genuine = await messageFor(real2, { to_address: alice.address, amount: "25.5" });
		expect(genuine.tx_id).toBe(forged[2][0].tx_id);
		expect((await deliver([genuine], { env: chainEnv })).acked.size).toBe(1);
		expect(await held(genuine.tx_id)).toMatchObject({ status: "held", user_id: null, to_address: null });
		expect(await balance(alice.userId)).toBe("0.00000000");
		expect(await balance(bob.userId)).toBe("0.00000000");
		// One with another amount than the held one is a conflict, never credited.
		const disagreeing = await messageFor(real1, { to_address: alice.address, amount: "25.5" });
		expect((await deliver([disagreeing], { env: chainEnv })).acked.size).toBe(1);
		expect(await statusOf(disagreeing.tx_id)).toBe("held");
		expect(await ledgerRows(disagreeing.tx_id)).toEqual([]);
		await checkLedger(forged.map(([m]) => m.tx_id));
	});

	it("credits a real transfer once, when the chain says it is final, without a second webhook", async () => {
		const alice = await player();
		const sent = await sendUsdt(alice.address, "40");
		// The watcher claims 12 confirmations; the chain has 1: the chain's count is kept.
		const message = await messageFor(sent, { to_address: alice.address, amount: "40" });
		const first = await deliver([message], { env: chainEnv });
		expect(first.acked.size).toBe(1);
		const pending = await depositRow(message.tx_id);
		expect(pending).toMatchObject({ status: "pending", confirmations: 1 });
		expect(await balance(alice.userId)).toBe("0.00000000");
		const [stored] = await sql().query("SELECT block_hash, block_number::text FROM deposits WHERE id = $1", [
			message.tx_id,
		]);
		expect(stored).toEqual({ block_hash: sent.blockHash, block_number: String(sent.blockNumber) });

		await miner.mine({ blocks: 11 });
		await recheckUntil(async () => (await statusOf(message.tx_id)) === "credited");
		expect((await depositRow(message.tx_id))?.confirmations).toBeGreaterThanOrEqual(12);
		expect(await balance(alice.userId)).toBe("40.00000000");

		// Further runs and the watcher's late webhook change nothing.
		await miner.mine({ blocks: 3 });
		await scheduled();
		await deliver([await messageFor(sent, { to_address: alice.address, amount: "40" })], { env: chainEnv });
		expect(await ledgerRows(message.tx_id)).toEqual([
			{ tx_type: "deposit", amount: "40.00000000", user_id: alice.userId },
		]);
		expect(await balance(alice.userId)).toBe("40.00000000");
		await checkLedger([message.tx_id]);
	});

	it("reverses a credit when a reorg takes the transfer away", async () => {
		const alice = await player();
		const snapshot = await miner.snapshot();
		const sent = await sendUsdt(alice.address, "7.25");
		await miner.mine({ blocks: 12 });
		const message = await messageFor(sent, { to_address: alice.address, amount: "7.25" });
		await deliver([message], { env: chainEnv });
		expect(await statusOf(message.tx_id)).toBe("credited");
		expect(await balance(alice.userId)).toBe("7.25000000");

		await miner.revert({ id: snapshot });
		await miner.mine({ blocks: 2 });
		expect(await reader.getTransactionReceipt({ hash: sent.hash }).catch(() => null)).toBeNull();
		await recheckUntil(async () => (await statusOf(message.tx_id)) === "reversed");
		expect(await balance(alice.userId)).toBe("0.00000000");
		expect((await ledgerRows(message.tx_id)).map((r) => [r.tx_type, r.amount])).toEqual([
			["deposit", "7.25000000"],
			["deposit_reversal", "7.25000000"],
		]);
		await checkLedger([message.tx_id]);
	});

	it("retries while the chain's endpoint is down, never crediting unverified, and credits once it is back", async () => {
		const alice = await player();
		const sent = await sendUsdt(alice.address, "3");
		await miner.mine({ blocks: 12 });
		const path = proxyPath("settle-down-then-back");
		const viaProxy = chainModeEnv(env, [path.url]);
		const message = await messageFor(sent, { to_address: alice.address, amount: "3" });
		const metrics = recordingMetrics();

		await path.fault("http503");
		const down = await deliver([message], { env: { ...viaProxy, METRICS: metrics.binding } });
		expect(down.acked.size).toBe(0);
		expect(down.retried.has(down.ids[0]!)).toBe(true);
		expect(await depositRow(message.tx_id)).toBeUndefined();
		expect(await balance(alice.userId)).toBe("0.00000000");
		const outcome = metrics.points.find((p) => p.blobs[0] === "settle")?.blobs[3];
		expect(outcome).toBe("chain_unavailable");

		await path.fault(null);
		const back = await deliver([message], { env: viaProxy, attempts: 2, ids: down.ids });
		expect(back.acked.size).toBe(1);
		expect(await statusOf(message.tx_id)).toBe("credited");
		expect(await balance(alice.userId)).toBe("3.00000000");
		await checkLedger([message.tx_id]);
	});

	it("parks a real transfer to an address nobody holds, and credits it once an admin assigns it", async () => {
		const nobody = randomAddress();
		const sent = await sendUsdt(nobody, "9");
		await miner.mine({ blocks: 12 });
		const message = await messageFor(sent, { to_address: nobody, amount: "9" });
		await deliver([message], { env: chainEnv });
		expect(await statusOf(message.tx_id)).toBe("unmatched");
		// As the assign route does (api/src/routes/admin/deposit-assign.ts): the chosen player,
		// who holds no such address, fixed on the row, then a message; the chain must still pay
		// the parked deposit's address.
		const carol = await createUser();
		await sql().query("UPDATE deposits SET user_id = $1 WHERE id = $2", [carol, message.tx_id]);
		const assign = await messageFor(sent, {
			to_address: nobody,
			amount: "9",
			user_id: carol,
			webhook_id: `admin-assign:${crypto.randomUUID()}`,
		});
		await deliver([assign], { env: chainEnv });
		expect(await statusOf(message.tx_id)).toBe("credited");
		expect(await balance(carol)).toBe("9.00000000");
		await checkLedger([message.tx_id]);
	});

	it("trusts the signed webhook in sender mode (the setting of the suites that settle synthetic deposits)", async () => {
		const alice = await player();
		const message = await depositMessage({ tx_hash: randomTxHash(), to_address: alice.address });
		await deliver([message]);
		expect(await statusOf(message.tx_id)).toBe("credited");
	});
});
