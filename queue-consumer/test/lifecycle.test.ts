/**
 * The deposit lifecycle through the consumer's real `queue` handler, one delivery at a time:
 * pending → credited once, attribution, unmatched then assigned, reorgs, conflicts.
 */

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	again,
	balance,
	checkLedger,
	createUser,
	deliver,
	depositMessage,
	depositRow,
	ledgerRows,
	registerAddress,
	sql,
} from "./support/consumer";

beforeEach(async () => {
	await resetDatabase(env);
});

describe("confirmations", () => {
	it("keeps a deposit pending below the threshold and credits it once it is reached", async () => {
		const user = await createUser();
		const seen = await depositMessage({
			user_id: user,
			confirmations: 3,
			status: "pending",
			amount: "100.12345678",
		});
		const first = await deliver([seen]);
		expect(first.acked).toEqual(new Set(first.ids));
		expect(await depositRow(seen.tx_id)).toMatchObject({
			status: "pending",
			confirmations: 3,
			user_id: user,
		});
		expect(await balance(user)).toBe("0.00000000");

		await deliver([again(seen, { confirmations: 11 })]);
		expect(await depositRow(seen.tx_id)).toMatchObject({ status: "pending", confirmations: 11 });

		const final = await deliver([again(seen, { confirmations: 12 })]);
		expect(final.acked.size).toBe(1);
		expect(await depositRow(seen.tx_id)).toMatchObject({ status: "credited", confirmations: 12 });
		expect(await balance(user)).toBe("100.12345678");
		expect(await ledgerRows(seen.tx_id)).toEqual([
			{ tx_type: "deposit", amount: "100.12345678", user_id: user },
		]);
		await checkLedger([seen.tx_id]);
	});

	it("never lowers confirmations, and credits on a count whatever the status says", async () => {
		const user = await createUser();
		const seen = await depositMessage({ user_id: user, confirmations: 9, status: "pending" });
		await deliver([seen]);
		await deliver([again(seen, { confirmations: 4 })]);
		expect(await depositRow(seen.tx_id)).toMatchObject({ status: "pending", confirmations: 9 });
		// "confirmed" with too few confirmations is still pending: the count decides.
		await deliver([again(seen, { confirmations: 5, status: "confirmed" })]);
		expect(await depositRow(seen.tx_id)).toMatchObject({ status: "pending", confirmations: 9 });
		// Enough confirmations credit even while the sender still says "pending".
		await deliver([again(seen, { confirmations: 40, status: "pending" })]);
		expect(await depositRow(seen.tx_id)).toMatchObject({ status: "credited", confirmations: 40 });
		await checkLedger([seen.tx_id]);
	});

	it("never credits a deposit without a count on the sender's word alone: it waits for the threshold", async () => {
		const user = await createUser();
		const minimal = await depositMessage({
			user_id: user,
			confirmations: null,
			status: "confirmed",
			amount: "7",
		});
		await deliver([minimal]);
		expect(await depositRow(minimal.tx_id)).toMatchObject({ status: "pending", confirmations: null });
		expect(await balance(user)).toBe("0.00000000");
		await deliver([again(minimal, { confirmations: 11 })]);
		expect(await depositRow(minimal.tx_id)).toMatchObject({ status: "pending", confirmations: 11 });
		await deliver([again(minimal, { confirmations: 12 })]);
		expect(await depositRow(minimal.tx_id)).toMatchObject({ status: "credited", confirmations: 12 });
		expect(await balance(user)).toBe("7.00000000");
		await checkLedger([minimal.tx_id]);
	});

	it("credits a deposit without a count when the sender says confirmed on a chain whose senders may assert finality", async () => {
		const user = await createUser();
		const trusting = { ...env, SENDER_FINALITY: ["bep20"] } as unknown as Env;
		const legacy = await depositMessage({
			user_id: user,
			confirmations: null,
			status: "confirmed",
			amount: "7",
		});
		await deliver([legacy], { env: trusting });
		expect(await depositRow(legacy.tx_id)).toMatchObject({ status: "credited", confirmations: null });
		expect(await balance(user)).toBe("7.00000000");

		// Only on the chains listed, and only when the sender says confirmed.
		const tron = await depositMessage({
			chain: "trc20",
			user_id: user,
			confirmations: null,
			status: "confirmed",
		});
		const unsure = await depositMessage({ user_id: user, confirmations: null, status: "pending" });
		await deliver([tron, unsure], { env: trusting });
		expect(await depositRow(tron.tx_id)).toMatchObject({ status: "pending" });
		expect(await depositRow(unsure.tx_id)).toMatchObject({ status: "pending", confirmations: null });
		await checkLedger([legacy.tx_id, tron.tx_id, unsure.tx_id]);
	});

	it("uses each chain's own threshold from the configuration", async () => {
		const user = await createUser();
		const tron = await depositMessage({
			chain: "trc20",
			user_id: user,
			confirmations: 18,
			status: "pending",
		});
		await deliver([tron]);
		expect(await depositRow(tron.tx_id)).toMatchObject({ status: "pending" });
		await deliver([again(tron, { confirmations: 19 })]);
		expect(await depositRow(tron.tx_id)).toMatchObject({ status: "credited" });
		const [row] = await sql().query("SELECT required_confirmations FROM deposits WHERE id = $1", [
			tron.tx_id,
		]);
		expect(row).toEqual({ required_confirmations: 19 });
	});
});

describe("attribution", () => {
	it("attributes a deposit by its registered address when no user is named", async () => {
		const user = await createUser();
		await registerAddress(user, "0xAbCdEf0000000000000000000000000000000001");
		const m = await depositMessage({ to_address: "0xABCDEF0000000000000000000000000000000001" });
		await deliver([m]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited", user_id: user });
		expect(await balance(user)).toBe("25.50000000");
	});

	it("parks an unattributable deposit as unmatched, acks it, and credits it once when an admin assigns it", async () => {
		const stranger = await depositMessage({ user_id: crypto.randomUUID(), amount: "42.5" });
		const parked = await deliver([stranger]);
		expect(parked.acked.size).toBe(1);
		expect(parked.retried.size).toBe(0);
		expect(await depositRow(stranger.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		await checkLedger([stranger.tx_id]);

		// A message naming a user moves nothing by itself: a sender's redelivery, or a stale assign.
		const user = await createUser();
		const assign = again(stranger, { user_id: user, status: "confirmed", webhook_id: "admin-assign:1" });
		await deliver([assign]);
		expect(await depositRow(stranger.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		// The admin route fixes the owner on the row, then re-sends the deposit naming them.
		await sql().query("UPDATE deposits SET user_id = $2 WHERE id = $1 AND status = 'unmatched'", [
			stranger.tx_id,
			user,
		]);
		await deliver([assign]);
		await deliver([assign]); // a second click, or a redelivery
		expect(await depositRow(stranger.tx_id)).toMatchObject({ status: "credited", user_id: user });
		expect(await balance(user)).toBe("42.50000000");
		expect(await ledgerRows(stranger.tx_id)).toHaveLength(1);
		await checkLedger([stranger.tx_id]);
	});

	it("leaves a parked deposit parked when its address is registered later and it is delivered again", async () => {
		const m = await depositMessage({ to_address: "0x00000000000000000000000000000000000000aa" });
		await deliver([m]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "unmatched" });
		const user = await createUser();
		await registerAddress(user, "0x00000000000000000000000000000000000000AA");
		await deliver([again(m), again(m, { user_id: user })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		expect(await balance(user)).toBe("0.00000000");
		await checkLedger([m.tx_id]);
	});

	it("never gives a pending deposit to an address registered after it was first seen", async () => {
		const m = await depositMessage({
			to_address: "0x00000000000000000000000000000000000000bb",
			confirmations: 2,
			status: "pending",
		});
		await deliver([m]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "pending", user_id: null });
		const late = await createUser();
		await registerAddress(late, "0x00000000000000000000000000000000000000bb");
		await deliver([again(m, { confirmations: 12, status: "confirmed" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		expect(await balance(late)).toBe("0.00000000");
		await checkLedger([m.tx_id]);
	});

	it("never gives a pending deposit to the holder of an address issued after it was seen", async () => {
		const address = "0x00000000000000000000000000000000000000bb";
		const m = await depositMessage({ to_address: address, confirmations: 2, status: "pending" });
		await deliver([m]);
		const late = await createUser();
		await registerAddress(late, address);
		await deliver([again(m, { confirmations: 12, status: "confirmed" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		expect(await balance(late)).toBe("0.00000000");
		// A deposit seen after the address was issued is theirs.
		const next = await depositMessage({ to_address: address });
		await deliver([next]);
		expect(await depositRow(next.tx_id)).toMatchObject({ status: "credited", user_id: late });
		await checkLedger([m.tx_id, next.tx_id]);
	});

	it("never moves a credited deposit when its address is registered to someone else later", async () => {
		const owner = await createUser();
		const m = await depositMessage({
			user_id: owner,
			to_address: "0x00000000000000000000000000000000000000cc",
		});
		await deliver([m]);
		const other = await createUser();
		await registerAddress(other, "0x00000000000000000000000000000000000000cc");
		await deliver([again(m, { user_id: null })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited", user_id: owner });
		expect(await balance(other)).toBe("0.00000000");
		await checkLedger([m.tx_id]);
	});

	it("keeps the first user a deposit was attributed to", async () => {
		const first = await createUser();
		const second = await createUser();
		const m = await depositMessage({ user_id: first, confirmations: 1, status: "pending" });
		await deliver([m]);
		await deliver([again(m, { user_id: second, confirmations: 12 })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited", user_id: first });
		expect(await balance(second)).toBe("0.00000000");
	});
});

describe("reorgs", () => {
	it("drops a deposit removed before credit; a late redelivery from the removed block changes nothing", async () => {
		const user = await createUser();
		const m = await depositMessage({
			user_id: user,
			confirmations: 2,
			status: "pending",
			block_number: "100",
		});
		await deliver([m]);
		await deliver([again(m, { status: "removed" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "reverted" });
		await deliver([again(m, { confirmations: 30, status: "confirmed" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "reverted" });
		expect(await balance(user)).toBe("0.00000000");
		expect(await ledgerRows(m.tx_id)).toEqual([]);
		await checkLedger([m.tx_id]);
	});

	it("holds a deposit seen again after a removal when no block number tells a redelivery from a re-inclusion", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, confirmations: 2, status: "pending" });
		await deliver([m]);
		await deliver([again(m, { status: "removed" })]);
		await deliver([again(m, { confirmations: 30, status: "confirmed" })]);
		const [row] = await sql().query(
			"SELECT status::text, hold_reason, inclusion FROM deposits WHERE id = $1",
			[m.tx_id],
		);
		expect(row).toEqual({ status: "held", hold_reason: "reinclusion_unproven", inclusion: 1 });
		expect(await balance(user)).toBe("0.00000000");
		await checkLedger([m.tx_id]);
	});

	it("records a removal seen before the deposit itself: its block's late delivery cannot credit it, a re-inclusion does", async () => {
		const user = await createUser();
		const m = await depositMessage({
			user_id: user,
			status: "removed",
			confirmations: 0,
			block_number: "100",
		});
		await deliver([m]);
		await deliver([again(m, { status: "confirmed", confirmations: 12 })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "reverted" });
		expect(await balance(user)).toBe("0.00000000");
		await deliver([again(m, { status: "confirmed", confirmations: 12, block_number: "104" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited" });
		expect(await balance(user)).toBe("25.50000000");
		await checkLedger([m.tx_id]);
	});

	it("reverses a credited deposit with a reversal ledger row", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "10" });
		await deliver([m]);
		await deliver([again(m, { status: "removed" })]);
		await deliver([again(m, { status: "removed" })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "reversed" });
		expect(await balance(user)).toBe("0.00000000");
		expect(await ledgerRows(m.tx_id)).toEqual([
			{ tx_type: "deposit", amount: "10.00000000", user_id: user },
			{ tx_type: "deposit_reversal", amount: "10.00000000", user_id: user },
		]);
		const [status] = await sql().query("SELECT status::text FROM users WHERE id = $1", [user]);
		expect(status).toEqual({ status: "ACTIVE" });
		await checkLedger([m.tx_id]);
	});

	it("takes back only what the wallet holds, freezes the user and records the shortfall", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "10" });
		await deliver([m]);
		// The player spent part of it meanwhile (outside this ledger's deposit rows).
		await sql().query("UPDATE wallets SET deposit_balance = deposit_balance - 6.5 WHERE user_id = $1", [
			user,
		]);
		await deliver([again(m, { status: "removed" })]);
		expect(await balance(user)).toBe("0.00000000");
		expect((await ledgerRows(m.tx_id)).at(-1)).toEqual({
			tx_type: "deposit_reversal",
			amount: "3.50000000",
			user_id: user,
		});
		const shortfalls = await sql().query(
			"SELECT shortfall::text, currency, froze_user FROM reversal_shortfalls WHERE deposit_id = $1",
			[m.tx_id],
		);
		// This shortfall is what froze the player: resolving it may unfreeze them.
		expect(shortfalls).toEqual([{ shortfall: "6.50000000", currency: "USDT", froze_user: true }]);
		const [status] = await sql().query("SELECT status::text FROM users WHERE id = $1", [user]);
		expect(status).toEqual({ status: "FROZEN" });
	});

	it("marks a shortfall of a player frozen already as not the one that froze them", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "10" });
		await deliver([m]);
		// Frozen by the platform for another reason, then spent part of it.
		await sql().query("UPDATE users SET status = 'FROZEN' WHERE id = $1", [user]);
		await sql().query("UPDATE wallets SET deposit_balance = deposit_balance - 4 WHERE user_id = $1", [user]);
		await deliver([again(m, { status: "removed" })]);
		const shortfalls = await sql().query(
			"SELECT shortfall::text, froze_user FROM reversal_shortfalls WHERE deposit_id = $1",
			[m.tx_id],
		);
		expect(shortfalls).toEqual([{ shortfall: "4.00000000", froze_user: false }]);
	});
});

describe("conflicts", () => {
	it("records a delivery with another amount or currency as a conflict and overwrites nothing", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "50" });
		await deliver([m]);
		const other = await deliver([again(m, { amount: "500" }), again(m, { currency: "BUSD" })]);
		await deliver([again(m, { amount: "500" })]); // recorded once
		expect(other.acked.size).toBe(2);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited", amount: "50.00000000" });
		expect(await balance(user)).toBe("50.00000000");
		const conflicts = await sql().query(
			"SELECT amount::text, currency FROM deposit_conflicts WHERE deposit_id = $1 ORDER BY currency, amount",
			[m.tx_id],
		);
		expect(conflicts).toEqual([
			{ amount: "50.00000000", currency: "BUSD" },
			{ amount: "500.00000000", currency: "USDT" },
		]);
		await checkLedger([m.tx_id]);
	});

	it("treats 50 and 50.00 as the same amount", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "50", confirmations: 1, status: "pending" });
		await deliver([m]);
		await deliver([again(m, { amount: "50.00000000", confirmations: 12 })]);
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited" });
		const conflicts = await sql().query("SELECT 1 FROM deposit_conflicts WHERE deposit_id = $1", [m.tx_id]);
		expect(conflicts).toEqual([]);
	});
});

describe("currencies", () => {
	it("dead-letters a deposit in a currency the wallets do not hold, and never creates it", async () => {
		const user = await createUser();
		const busd = await depositMessage({ user_id: user, currency: "BUSD", amount: "5" });
		const d = await deliver([busd]);
		expect(d.acked.size).toBe(1);
		expect(await depositRow(busd.tx_id)).toBeUndefined();
		const letters = await sql().query("SELECT tx_id, reason FROM dead_letters");
		expect(letters).toEqual([
			{ tx_id: busd.tx_id, reason: "a deposit in BUSD cannot be credited: wallets hold USDT" },
		]);
		// The same deposit in USDT is then created and credited; nothing is credited twice.
		await deliver([again(busd, { currency: "USDT" })]);
		expect(await depositRow(busd.tx_id)).toMatchObject({ status: "credited" });
		expect(await balance(user)).toBe("5.00000000");
		await checkLedger([busd.tx_id]);
	});
});
