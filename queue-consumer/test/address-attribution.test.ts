/**
 * Attribution by deposit address through the consumer's real `queue` handler: an address
 * belongs to its whole family (an EVM address on every EVM chain), is compared in its stored
 * form (EVM without case, TRON exactly), and credits only while it is issued to a player.
 */

import { env } from "cloudflare:workers";
import { beforeEach, describe, expect, it } from "vitest";
import { resetDatabase } from "../../test/support/database";
import {
	balance,
	checkLedger,
	createUser,
	deliver,
	depositMessage,
	depositRow,
	registerAddress,
	sql,
} from "./support/consumer";

beforeEach(async () => {
	await resetDatabase(env);
});

const TRON = "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8";

describe("attribution by deposit address", () => {
	it("credits deposits on bep20 and on erc20 to the one owner of an EVM address", async () => {
		const owner = await createUser();
		await registerAddress(owner, "0xAbCdEf0000000000000000000000000000000002", "erc20");
		const bep = await depositMessage({
			chain: "bep20",
			to_address: "0xabcdef0000000000000000000000000000000002",
		});
		const erc = await depositMessage({
			chain: "erc20",
			amount: "4.5",
			to_address: "0xabcdef0000000000000000000000000000000002",
		});
		await deliver([bep, erc]);
		expect(await depositRow(bep.tx_id)).toMatchObject({ status: "credited", user_id: owner });
		expect(await depositRow(erc.tx_id)).toMatchObject({ status: "credited", user_id: owner });
		expect(await balance(owner)).toBe("30.00000000");
		await checkLedger([bep.tx_id, erc.tx_id]);
	});

	it("matches a TRON address exactly: another case is another address", async () => {
		const owner = await createUser();
		await registerAddress(owner, TRON, "trc20");
		const exact = await depositMessage({
			chain: "trc20",
			tx_hash: "ab".repeat(32),
			confirmations: 30,
			to_address: TRON,
		});
		const lowered = await depositMessage({
			chain: "trc20",
			tx_hash: "cd".repeat(32),
			confirmations: 30,
			to_address: TRON.toLowerCase(),
		});
		await deliver([exact, lowered]);
		expect(await depositRow(exact.tx_id)).toMatchObject({ status: "credited", user_id: owner });
		expect(await depositRow(lowered.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		await checkLedger([exact.tx_id, lowered.tx_id]);
	});

	it("credits nobody for an address waiting unissued in the pool, or retired with a deleted account", async () => {
		await sql().query(
			"INSERT INTO deposit_addresses (family, address, origin) VALUES ('evm', '0x00000000000000000000000000000000000000b1', 'pool')",
		);
		const gone = await createUser();
		await registerAddress(gone, "0x00000000000000000000000000000000000000b2");
		await sql().query("DELETE FROM users WHERE id = $1", [gone]);
		const waiting = await depositMessage({ to_address: "0x00000000000000000000000000000000000000b1" });
		const retired = await depositMessage({ to_address: "0x00000000000000000000000000000000000000b2" });
		const outcome = await deliver([waiting, retired]);
		expect(outcome.retried.size).toBe(0);
		expect(await depositRow(waiting.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		expect(await depositRow(retired.tx_id)).toMatchObject({ status: "unmatched", user_id: null });
		await checkLedger([waiting.tx_id, retired.tx_id]);
	});
});
