/**
 * The consumer while settlement is paused (a `settlement_pause` row), through its real `queue`
 * and `scheduled` handlers: a batch is put back on the deposits queue unchanged, with the
 * configured delay, and acked only then, settling nothing; when the queue refuses the copies,
 * every message is retried instead (none acked); the chain re-check looks at nothing; after the
 * resume the same message settles once and the re-check runs again.
 */
import { createScheduledController } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import worker from "../src/index";
import { chainModeEnv, randomTxHash } from "./support/chain";
import { balance, createUser, deliver, depositMessage, depositRow, sql } from "./support/consumer";

const pause = () =>
	sql().query("INSERT INTO settlement_pause (reason) VALUES ('consumer test') ON CONFLICT DO NOTHING");
afterEach(() => sql().query("DELETE FROM settlement_pause"));

/** A producer that records what is sent, or refuses it. */
function recordingProducer(refuse = false) {
	const sent: { body: unknown; delaySeconds?: number }[] = [];
	return {
		sent,
		async sendBatch(messages: Iterable<{ body: unknown; delaySeconds?: number }>) {
			if (refuse) throw new Error("Queue sendBatch failed: queue overloaded");
			sent.push(...messages);
		},
	};
}

describe("the consumer while settlement is paused", () => {
	it("puts a batch back on the queue unchanged and settles nothing; after the resume it settles once", async () => {
		const userId = await createUser();
		const message = await depositMessage({ user_id: userId, amount: "12.5", confirmations: 12 });
		await pause();
		const producer = recordingProducer();
		const paused = await deliver([message], { env: { ...env, DEPOSITS: producer } as unknown as Env });
		expect(paused.acked.size).toBe(1);
		expect(paused.retried.size).toBe(0);
		expect(producer.sent).toEqual([{ body: message, delaySeconds: Number(env.PAUSED_RETRY_SECONDS) }]);
		expect(await depositRow(message.tx_id)).toBeUndefined();
		expect(await balance(userId)).toBe("0.00000000");

		await sql().query("DELETE FROM settlement_pause");
		const resumed = await deliver([producer.sent[0]!.body], {
			env: { ...env, DEPOSITS: recordingProducer() } as unknown as Env,
		});
		expect(resumed.acked.size).toBe(1);
		expect(await depositRow(message.tx_id)).toMatchObject({ status: "credited" });
		expect(await balance(userId)).toBe("12.50000000");
	});

	it("retries every message, acking none, when the queue refuses the copies", async () => {
		const message = await depositMessage({ user_id: await createUser(), confirmations: 12 });
		await pause();
		const run = await deliver([message, await depositMessage()], {
			env: { ...env, DEPOSITS: recordingProducer(true) } as unknown as Env,
		});
		expect(run.acked.size).toBe(0);
		expect([...run.retried.values()]).toEqual([
			Number(env.PAUSED_RETRY_SECONDS),
			Number(env.PAUSED_RETRY_SECONDS),
		]);
		expect(await depositRow(message.tx_id)).toBeUndefined();
	});

	it("re-checks nothing on chain while paused, and again after the resume", async () => {
		const chainEnv = chainModeEnv(env);
		const txHash = randomTxHash();
		const [row] = await sql().query(
			`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, status, confirmations, required_confirmations)
			 VALUES (gen_random_uuid(), 'bep20', $1, 0, 5, 'USDT', 'pending', 1, 12) RETURNING id`,
			[txHash],
		);
		const checkedAt = async () =>
			(await sql().query("SELECT chain_checked_at FROM deposits WHERE id = $1", [row!.id]))[0]!
				.chain_checked_at;
		const scheduled = () =>
			worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "* * * * *" }), chainEnv);
		await pause();
		await scheduled();
		expect(await checkedAt()).toBeNull();
		await sql().query("DELETE FROM settlement_pause");
		for (let run = 0; run < 30 && (await checkedAt()) === null; run++) await scheduled();
		expect(await checkedAt()).not.toBeNull();
	});
});
