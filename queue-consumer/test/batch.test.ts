/**
 * A batch as the queue hands it over: duplicates inside one batch and across batches running
 * at once, messages that can never settle, a poison message, database failures, the
 * dead-letter queue, metrics and a bad configuration. Each test checks what the queue is told (ack / retry and delay) and what the
 * database holds.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { BATCH, SETTLE } from "../../schema/metrics";
import { resetDatabase } from "../../test/support/database";
import { lastNetKey } from "../src/dead-letter-queue";
import {
	again,
	balance,
	checkLedger,
	createUser,
	deliver,
	depositMessage,
	depositRow,
	faults,
	ledgerRows,
	recordingMetrics,
	sql,
} from "./support/consumer";

beforeEach(async () => {
	await faults.clear();
	await resetDatabase(env);
});
afterEach(async () => {
	await faults.clear();
	vi.restoreAllMocks();
});

async function deadLetters() {
	return (await sql().query(
		"SELECT message_id, tx_id, source, reason, body, attempts FROM dead_letters ORDER BY message_id",
	)) as {
		message_id: string;
		tx_id: string | null;
		source: string;
		reason: string;
		body: unknown;
		attempts: number;
	}[];
}

/** Values of one data point by column name, per its layout. */
function columns<L extends Record<string, string>>(layout: L, point: { blobs: string[]; doubles: number[] }) {
	return Object.fromEntries(
		Object.entries(layout).map(([name, column]) => {
			const index = Number(column.replace(/^\D+/, "")) - 1;
			return [name, column.startsWith("blob") ? point.blobs[index] : point.doubles[index]];
		}),
	) as Record<keyof L, string | number>;
}

describe("duplicates within one batch", () => {
	it("credits a deposit delivered four times in one batch exactly once, with the highest confirmations", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "3.3", confirmations: 3, status: "pending" });
		const metrics = recordingMetrics();
		const d = await deliver(
			[m, again(m, { confirmations: 15 }), again(m, { confirmations: 7 }), again(m, { confirmations: 12 })],
			{ env: { ...env, METRICS: metrics.binding } },
		);
		expect(d.acked).toEqual(new Set(d.ids));
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited", confirmations: 15 });
		expect(await ledgerRows(m.tx_id)).toHaveLength(1);
		expect(await balance(user)).toBe("3.30000000");
		const outcomes = metrics.points
			.map((p) => columns(SETTLE, p))
			.filter((p) => p.kind === "settle")
			.map((p) => p.outcome);
		expect(outcomes.sort()).toEqual(["credited", "duplicate", "duplicate", "duplicate"]);
		await checkLedger([m.tx_id]);
	});

	it("acks a redelivered batch (its ack was lost) without changing anything", async () => {
		const user = await createUser();
		const bodies = [
			await depositMessage({ user_id: user }),
			await depositMessage({ user_id: user, amount: "1" }),
		];
		const first = await deliver(bodies);
		const before = await sql().query("SELECT id, status::text, updated_at::text FROM deposits ORDER BY id");
		const second = await deliver(bodies, { ids: first.ids, attempts: 2 });
		expect(second.acked).toEqual(new Set(first.ids));
		expect(await sql().query("SELECT id, status::text, updated_at::text FROM deposits ORDER BY id")).toEqual(
			before,
		);
		expect(await balance(user)).toBe("26.50000000");
		await checkLedger(bodies.map((b) => b.tx_id));
	});
});

describe("the same new deposits in batches running at once", () => {
	it("credits each once: one batch inserts it, the others wait for it and see a duplicate, none is retried", async () => {
		const users = [await createUser(), await createUser(), await createUser()];
		const bodies = await Promise.all(
			Array.from({ length: 30 }, (_, i) => depositMessage({ user_id: users[i % 3]!, amount: `${i + 1}` })),
		);
		// Four batches at once, each holding every deposit: as sent, reversed, and two
		// redeliveries interleaved differently, so each batch is first to some keys.
		const batches = [
			bodies,
			[...bodies].reverse(),
			bodies.map((_, i) => again(bodies[(i * 7) % bodies.length]!)),
			bodies.map((_, i) => again(bodies[(i * 11 + 5) % bodies.length]!)),
		];
		const metrics = recordingMetrics();
		const deliveries = await Promise.all(
			batches.map((batch) => deliver(batch, { env: { ...env, METRICS: metrics.binding } })),
		);
		for (const d of deliveries) {
			expect(d.retried.size).toBe(0);
			expect(d.acked).toEqual(new Set(d.ids));
		}
		const outcomes = metrics.points
			.map((p) => columns(SETTLE, p))
			.filter((p) => p.kind === "settle")
			.map((p) => p.outcome);
		expect(outcomes.filter((o) => o === "credited")).toHaveLength(30);
		expect(outcomes.filter((o) => o === "duplicate")).toHaveLength(90);
		for (const b of bodies) expect(await ledgerRows(b.tx_id)).toHaveLength(1);
		expect(await Promise.all(users.map(balance))).toEqual(["145.00000000", "155.00000000", "165.00000000"]);
		await checkLedger(bodies.map((b) => b.tx_id));
	});
});

describe("messages that can never settle", () => {
	it("dead-letters contract violations and a tx_id that disagrees with its key, acks them, settles the rest", async () => {
		const user = await createUser();
		const good = await depositMessage({ user_id: user });
		const noAmount = { ...(await depositMessage({ user_id: user })), amount: "12.123456789" };
		const wrongId = await depositMessage({ user_id: user, tx_id: crypto.randomUUID() });
		const d = await deliver([good, { hello: "world" }, noAmount, "not even an object", wrongId]);
		expect(d.acked).toEqual(new Set(d.ids));
		expect(d.retried.size).toBe(0);
		expect(await depositRow(good.tx_id)).toMatchObject({ status: "credited" });
		expect(await depositRow(noAmount.tx_id)).toBeUndefined();
		expect(await depositRow(wrongId.tx_id)).toBeUndefined();
		const letters = await deadLetters();
		expect(letters.map((l) => l.message_id)).toEqual([d.ids[1], d.ids[2], d.ids[3], d.ids[4]].sort());
		const byId = new Map(letters.map((l) => [l.message_id, l]));
		expect(byId.get(d.ids[1]!)).toMatchObject({ source: "consumer", tx_id: null, body: { hello: "world" } });
		expect(byId.get(d.ids[1]!)?.reason).toMatch(/invalid queue message.*\n.*/s);
		expect(byId.get(d.ids[2]!)).toMatchObject({ tx_id: noAmount.tx_id });
		expect(byId.get(d.ids[2]!)?.reason).toContain("amount");
		expect(byId.get(d.ids[3]!)?.body).toBe("not even an object");
		expect(byId.get(d.ids[4]!)?.reason).toContain("does not match its key");
		await checkLedger([good.tx_id, noAmount.tx_id, wrongId.tx_id]);

		// Redelivered (the ack was lost): stored once.
		await deliver([{ hello: "world" }], { ids: [d.ids[1]!], attempts: 2 });
		expect(await deadLetters()).toHaveLength(4);
	});

	it("stores a body Postgres could not hold as JSON (NUL characters) in the dead-letter table", async () => {
		const d = await deliver([{ v: 1, tx_hash: "0x\u0000", note: "bad\u0000byte" }]);
		expect(d.acked.size).toBe(1);
		const [letter] = await deadLetters();
		expect(letter?.body).toEqual({ v: 1, tx_hash: "0x\uFFFD", note: "bad\uFFFDbyte" });
	});

	it("isolates a poison message that Postgres refuses, dead-letters it alone and settles the others", async () => {
		const user = await createUser();
		const first = await depositMessage({ user_id: user, amount: "1" });
		// Valid by the contract (up to 20 digits), but beyond Postgres's bigint: refused (22003).
		const poison = await depositMessage({ user_id: user, amount: "2", block_number: "99999999999999999999" });
		const last = await depositMessage({ user_id: user, amount: "4", confirmations: 2, status: "pending" });
		const metrics = recordingMetrics();
		const d = await deliver([first, poison, last], { env: { ...env, METRICS: metrics.binding } });
		expect(d.acked).toEqual(new Set(d.ids));
		expect(await depositRow(first.tx_id)).toMatchObject({ status: "credited" });
		expect(await depositRow(last.tx_id)).toMatchObject({ status: "pending" });
		expect(await depositRow(poison.tx_id)).toBeUndefined();
		expect(await balance(user)).toBe("1.00000000");
		const [letter] = await deadLetters();
		expect(letter).toMatchObject({ message_id: d.ids[1], tx_id: poison.tx_id, source: "consumer" });
		expect(letter?.reason).toContain("22003");
		const batch = metrics.points.map((p) => columns(BATCH, p)).find((p) => p.kind === "batch");
		expect(batch?.outcome).toBe("isolated");
		await checkLedger([first.tx_id, poison.tx_id, last.tx_id]);
	});
});

describe("database failures", () => {
	it("retries every message with exponential backoff from its own attempts when the database errs", async () => {
		const user = await createUser();
		const bodies = [
			await depositMessage({ user_id: user }),
			await depositMessage({ user_id: user }),
			await depositMessage({ user_id: user }),
			{ not: "valid" }, // must reach the dead-letter table before it is acked
		];
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0 });
		const backoff = { ...env, RETRY_BASE_SECONDS: 2, RETRY_MAX_SECONDS: 900 };
		const d = await deliver(bodies, { attempts: [1, 3, 12, 1], env: backoff });
		expect((await faults.stats()).errors).toBeGreaterThan(0);
		expect(d.acked.size).toBe(0);
		expect([...d.retried.values()]).toEqual([2, 8, 900, 2]);

		await faults.clear();
		const retried = await deliver(bodies, { ids: d.ids, attempts: [2, 4, 13, 2] });
		expect(retried.acked).toEqual(new Set(d.ids));
		expect(await balance(user)).toBe("76.50000000");
		expect(await deadLetters()).toHaveLength(1);
		await checkLedger(bodies.slice(0, 3).map((b) => (b as { tx_id: string }).tx_id));
	});

	it("retries when the database cannot be reached at all", async () => {
		const m = await depositMessage({ user_id: await createUser() });
		const d = await deliver([m], { env: { ...env, NEON_HTTP_ENDPOINT: "http://127.0.0.1:9/sql" } });
		expect(d.acked.size).toBe(0);
		expect(d.retried.has(d.ids[0]!)).toBe(true);
		expect(await depositRow(m.tx_id)).toBeUndefined();
	});

	it("retries when the database does not answer in time, and the late commit is not applied twice", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "3" });
		// The settlement statement is held past the consumer's time limit, then forwarded: it
		// commits after the consumer gave up. (The batch's other reads, the pause check first, pass.)
		await faults.set({
			errorRate: 0,
			timeoutRate: 1,
			dropAfterCommitRate: 0,
			hangMs: 700,
			onlyIfBodyIncludes: [m.tx_id, "INSERT INTO deposits"],
		});
		const d = await deliver([m], { env: { ...env, DATABASE_TIMEOUT_MS: 300 } });
		expect(d.retried.has(d.ids[0]!)).toBe(true);
		expect((await faults.stats()).timeouts).toBe(1);
		await faults.quiet();
		await faults.clear();
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited" });
		const redelivered = await deliver([m], { ids: d.ids, attempts: 2 });
		expect(redelivered.acked.size).toBe(1);
		expect(await balance(user)).toBe("3.00000000");
		await checkLedger([m.tx_id]);
	});

	it("retries when the database commits but the answer is lost, and the redelivery changes nothing", async () => {
		const user = await createUser();
		const m = await depositMessage({ user_id: user, amount: "9.99" });
		// The settlement statement's answer is lost (the batch's other reads pass).
		await faults.set({
			errorRate: 0,
			timeoutRate: 0,
			dropAfterCommitRate: 1,
			onlyIfBodyIncludes: [m.tx_id, "INSERT INTO deposits"],
		});
		const d = await deliver([m]);
		await faults.clear();
		expect(d.retried.has(d.ids[0]!)).toBe(true);
		// It committed all the same.
		expect(await depositRow(m.tx_id)).toMatchObject({ status: "credited" });
		const metrics = recordingMetrics();
		await deliver([m], { ids: d.ids, attempts: 2, env: { ...env, METRICS: metrics.binding } });
		expect(columns(SETTLE, metrics.points[0]!).outcome).toBe("duplicate");
		expect(await balance(user)).toBe("9.99000000");
		await checkLedger([m.tx_id]);
	});
});

describe("the dead-letter queue", () => {
	it("stores what the queue gave up on, once, and acks it", async () => {
		const m = await depositMessage({ user_id: await createUser() });
		const d = await deliver([m, { broken: true }], { queue: "deposits-dlq", attempts: 1 });
		expect(d.acked).toEqual(new Set(d.ids));
		await deliver([m, { broken: true }], { queue: "deposits-dlq", ids: d.ids, attempts: 2 });
		const letters = await deadLetters();
		expect(letters).toHaveLength(2);
		expect(letters.find((l) => l.message_id === d.ids[0])).toMatchObject({
			source: "queue_dlq",
			tx_id: m.tx_id,
			body: m,
		});
		expect(letters[0]?.reason).toContain("deposits queue gave up");
		// Accounted for: the accepted webhook is in the dead letters.
		await checkLedger([m.tx_id]);
	});

	it("keeps the messages on the dead-letter queue while the database is down", async () => {
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0 });
		const d = await deliver([{ broken: true }], { queue: "deposits-dlq" });
		expect(d.acked.size).toBe(0);
		expect(d.retried.size).toBe(1);
		// The dead-letter queue's own, longer backoff: 2 s doubling, capped at 15 minutes.
		const late = await deliver([{ broken: true }], {
			queue: "deposits-dlq",
			attempts: 20,
			env: { ...env, RETRY_BASE_SECONDS: 2 },
		});
		expect([...late.retried.values()]).toEqual([900]);
	});

	it("puts what the database cannot take on the last deliveries into the last net, and only then acks it", async () => {
		const m = await depositMessage({ user_id: await createUser() });
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0 });
		const metrics = recordingMetrics();
		const d = await deliver([m, { broken: true }], {
			queue: "deposits-dlq",
			attempts: [100, 99],
			env: { ...env, METRICS: metrics.binding },
		});
		// The last delivery (the queue's max_retries, 100) is kept in R2 and acked; the other retried.
		expect(d.acked).toEqual(new Set([d.ids[0]]));
		expect([...d.retried.keys()]).toEqual([d.ids[1]]);
		const object = await env.LAST_NET.get(lastNetKey("deposits-dlq", d.ids[0]!));
		expect(object).not.toBeNull();
		const record = (await object!.json()) as Record<string, unknown>;
		expect(record).toMatchObject({
			v: 1,
			queue: "deposits-dlq",
			message_id: d.ids[0],
			attempts: 100,
			body: m,
		});
		expect(String(record.reason)).toContain("Postgres could not take this dead letter on delivery 100");
		expect(await env.LAST_NET.get(lastNetKey("deposits-dlq", d.ids[1]!))).toBeNull();
		const outcomes = metrics.points.map((p) => columns(SETTLE, p)).map((p) => [p.kind, p.outcome]);
		expect(outcomes).toEqual([
			["settle", "last_net"],
			["settle", "retry"],
			["batch", "last_net"],
		]);
		await env.LAST_NET.delete(lastNetKey("deposits-dlq", d.ids[0]!));
	});

	it("retries a last delivery that R2 refuses too, rather than acking it unrecorded", async () => {
		await faults.set({ errorRate: 1, timeoutRate: 0, dropAfterCommitRate: 0 });
		const refusing = {
			put: () => Promise.reject(new Error("R2 unavailable")),
		} as unknown as R2Bucket;
		vi.spyOn(console, "error").mockImplementation(() => {});
		const d = await deliver([{ broken: true }], {
			queue: "deposits-dlq",
			attempts: 100,
			env: { ...env, LAST_NET: refusing },
		});
		expect(d.acked.size).toBe(0);
		expect(d.retried.size).toBe(1);
	});
});

describe("metrics", () => {
	it("writes one point per message and one per batch, with outcome, lag, attempts and version", async () => {
		const user = await createUser();
		const receivedAt = new Date(Date.now() - 5_000).toISOString();
		const credited = await depositMessage({ user_id: user, received_at: receivedAt });
		const pending = await depositMessage({
			chain: "erc20",
			confirmations: 1,
			status: "pending",
			received_at: receivedAt,
		});
		const metrics = recordingMetrics();
		await deliver([credited, pending, { junk: 1 }], {
			attempts: [1, 2, 1],
			env: { ...env, METRICS: metrics.binding, CF_VERSION_METADATA: { id: "v-123", tag: "", timestamp: "" } },
		});
		const points = metrics.points.map((p) => ({ ...p, named: columns(SETTLE, p) }));
		expect(points).toHaveLength(4);
		const settle = points.filter((p) => p.named.kind === "settle").map((p) => p.named);
		expect(settle.map((p) => [p.outcome, p.chain, p.attempts])).toEqual([
			["credited", "bep20", 1],
			["pending", "erc20", 2],
			["dead_letter", "", 1],
		]);
		for (const p of settle) {
			expect(p).toMatchObject({ worker: "consumer", versionId: "v-123" });
			expect(p.settleMs).toBeGreaterThanOrEqual(0);
		}
		expect(settle[0]!.lagMs).toBeGreaterThanOrEqual(5_000);
		const batch = columns(BATCH, metrics.points.at(-1)!);
		expect(batch).toMatchObject({ kind: "batch", outcome: "ok", queue: "deposits", size: 3, retried: 0 });
		expect(metrics.points.at(-1)!.indexes).toEqual(["batch:v-123"]);
	});
});

describe("configuration", () => {
	it("settles nothing and retries everything when a threshold is invalid, saying which one", async () => {
		const errors = vi.spyOn(console, "error").mockImplementation(() => {});
		const m = await depositMessage({ user_id: await createUser() });
		const d = await deliver([m], { env: { ...env, CONFIRMATIONS: { bep20: 0, erc20: 12, trc20: 19 } } });
		expect(d.acked.size).toBe(0);
		expect(d.retried.get(d.ids[0]!)).toBe(60);
		expect(await depositRow(m.tx_id)).toBeUndefined();
		const logged = String(errors.mock.calls[0]?.[0]);
		expect(logged).toContain("at least 1");
		expect(logged).toContain("at CONFIRMATIONS.bep20");
	});

	it("keeps a dead-letter-queue message on its last delivery in the last net even when misconfigured", async () => {
		vi.spyOn(console, "error").mockImplementation(() => {});
		const m = await depositMessage({ user_id: await createUser() });
		const broken = { ...env, CONFIRMATIONS: { bep20: 0, erc20: 12, trc20: 19 } };
		const d = await deliver([m, m], { queue: "deposits-dlq", attempts: [100, 3], env: broken });
		expect(d.acked).toEqual(new Set([d.ids[0]]));
		expect([...d.retried.keys()]).toEqual([d.ids[1]]);
		const object = await env.LAST_NET.get(lastNetKey("deposits-dlq", d.ids[0]!));
		expect(((await object!.json()) as { body: unknown }).body).toEqual(m);
		await env.LAST_NET.delete(lastNetKey("deposits-dlq", d.ids[0]!));
	});
});
