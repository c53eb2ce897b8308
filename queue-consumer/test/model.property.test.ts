/**
 * Model-based property test (fast-check commands): random sequences of what the outside world
 * does — deposits seen, confirmations in any order, reorgs, disagreeing amounts, admins
 * assigning unmatched deposits — interleaved with flushes that deliver everything queued at
 * least once, duplicated, shuffled, in concurrent batches, some of them through a failing
 * database. After every flush the database must match the model (model.ts) and the ledger
 * invariants must hold. Seeded (a failure prints the seed and the shrunk sequence).
 */
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterEach, expect, it } from "vitest";
import type { DepositMessage } from "../../schema/queue-message";
import { resetDatabase } from "../../test/support/database";
import { deliverAtLeastOnce, seededRandom } from "./at-least-once";
import { checkAgainstModel, type Observed } from "./model";
import { again, checkLedger, createUser, depositMessage, faults, sql } from "./support";

const THRESHOLDS = { bep20: 12, erc20: 12, trc20: 19 };
const RUNS = 40;

/** What the runs exercised, so the property cannot pass by never reaching the hard cases. */
const seen = {
	credited: 0,
	reversed: 0,
	reverted: 0,
	unmatched: 0,
	conflicts: 0,
	assigned: 0,
	faultyFlushes: 0,
};

interface Model {
	users: string[];
	deposits: DepositMessage[];
	queued: DepositMessage[];
	flushes: DepositMessage[][];
	observed: Observed;
	/** Deposits with an assignment waiting in the queue (one admin decision at a time). */
	assigning: Set<string>;
}
type Real = Record<string, never>;
type Command = fc.AsyncCommand<Model, Real>;

const money = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, "0")}`;
const statusFor = (m: DepositMessage, confirmations: number) =>
	confirmations >= THRESHOLDS[m.chain] ? "confirmed" : "pending";

class SeeDeposit implements Command {
	constructor(
		readonly user: number,
		readonly cents: number,
		readonly confirmations: number | null,
		readonly chain: "bep20" | "trc20",
	) {}
	check = (m: Readonly<Model>) => m.deposits.length < 10;
	async run(m: Model) {
		const legacy = this.confirmations === null;
		const base = await depositMessage({
			chain: this.chain,
			amount: money(this.cents),
			user_id: this.user < m.users.length ? m.users[this.user]! : crypto.randomUUID(),
			confirmations: this.confirmations,
			status: legacy ? "confirmed" : "pending",
		});
		const first = legacy ? base : again(base, { status: statusFor(base, this.confirmations ?? 0) });
		m.deposits.push(base);
		m.queued.push(first);
	}
	toString = () => `see(user ${this.user}, ${money(this.cents)}, ${this.confirmations} conf, ${this.chain})`;
}

class Confirm implements Command {
	constructor(
		readonly deposit: number,
		readonly confirmations: number,
	) {}
	check = (m: Readonly<Model>) => m.deposits.length > 0;
	async run(m: Model) {
		const base = m.deposits[this.deposit % m.deposits.length]!;
		m.queued.push(
			again(base, { confirmations: this.confirmations, status: statusFor(base, this.confirmations) }),
		);
	}
	toString = () => `confirm(#${this.deposit}, ${this.confirmations})`;
}

class Reorg implements Command {
	constructor(readonly deposit: number) {}
	check = (m: Readonly<Model>) => m.deposits.length > 0;
	async run(m: Model) {
		m.queued.push(again(m.deposits[this.deposit % m.deposits.length]!, { status: "removed" }));
	}
	toString = () => `reorg(#${this.deposit})`;
}

class Disagree implements Command {
	constructor(
		readonly deposit: number,
		readonly cents: number,
		readonly otherCurrency: boolean,
	) {}
	check = (m: Readonly<Model>) => m.deposits.length > 0;
	async run(m: Model) {
		const base = m.deposits[this.deposit % m.deposits.length]!;
		m.queued.push(
			this.otherCurrency ? again(base, { currency: "BUSD" }) : again(base, { amount: money(this.cents) }),
		);
	}
	toString = () => `disagree(#${this.deposit}, ${this.otherCurrency ? "BUSD" : money(this.cents)})`;
}

/**
 * What the admin route does: fix the chosen user as the parked deposit's owner, then re-send
 * the stored deposit naming them (the message alone moves nothing: settlement credits a parked
 * deposit only to the owner on its row).
 */
class Assign implements Command {
	constructor(
		readonly deposit: number,
		readonly user: number,
	) {}
	check = (m: Readonly<Model>) =>
		m.deposits.some((d) => m.observed.get(d.tx_id) === "unmatched" && !m.assigning.has(d.tx_id));
	async run(m: Model) {
		const open = m.deposits.filter(
			(d) => m.observed.get(d.tx_id) === "unmatched" && !m.assigning.has(d.tx_id),
		);
		const base = open[this.deposit % open.length]!;
		const [row] = (await sql().query(
			"SELECT amount::text, currency, confirmations FROM deposits WHERE id = $1",
			[base.tx_id],
		)) as { amount: string; currency: string; confirmations: number | null }[];
		const user = m.users[this.user % m.users.length]!;
		await sql().query(
			"UPDATE deposits SET user_id = $2 WHERE id = $1 AND status = 'unmatched' AND user_id IS NULL",
			[base.tx_id, user],
		);
		m.assigning.add(base.tx_id);
		seen.assigned++;
		m.queued.push(
			again(base, {
				amount: row!.amount,
				currency: row!.currency,
				confirmations: row!.confirmations,
				status: "confirmed",
				user_id: user,
				webhook_id: `admin-assign:${crypto.randomUUID()}`,
			}),
		);
	}
	toString = () => `assign(unmatched #${this.deposit}, user ${this.user})`;
}

class Flush implements Command {
	constructor(
		readonly seed: number,
		readonly faulty: boolean,
	) {}
	check = (m: Readonly<Model>) => m.queued.length > 0;
	async run(m: Model) {
		await flush(m, this.seed, this.faulty);
	}
	toString = () => `flush(seed ${this.seed}${this.faulty ? ", faulty database" : ""})`;
}

async function flush(m: Model, seed: number, faulty: boolean) {
	const batch = m.queued.splice(0);
	if (faulty) await faults.set({ errorRate: 0.15, timeoutRate: 0, dropAfterCommitRate: 0.15, seed });
	await deliverAtLeastOnce(batch, {
		random: seededRandom(seed),
		maxBatch: 12,
		concurrency: 3,
		afterRound: async (round) => {
			if (faulty && round === 6) await faults.clear();
		},
	});
	await faults.clear();
	await faults.quiet();
	m.flushes.push(batch);
	m.assigning.clear();
	m.observed = await checkAgainstModel(m.flushes, { thresholds: THRESHOLDS, users: m.users }, m.observed);
	const report = await checkLedger(m.deposits.map((d) => d.tx_id));
	if (faulty) seen.faultyFlushes++;
	for (const key of ["credited", "reversed", "reverted", "unmatched"] as const)
		seen[key] += report.deposits[key] ?? 0;
	seen.conflicts += report.conflicts;
}

const see = fc
	.tuple(
		fc.integer({ min: 0, max: 3 }),
		fc.integer({ min: 1, max: 1_000_000 }),
		fc.option(fc.nat(30)),
		fc.boolean(),
	)
	.map(([user, cents, conf, tron]) => new SeeDeposit(user, cents, conf, tron ? "trc20" : "bep20"));
const confirm = fc.tuple(fc.nat(), fc.nat(40)).map(([d, conf]) => new Confirm(d, conf));
const reorg = fc.nat().map((d) => new Reorg(d));
const disagree = fc
	.tuple(fc.nat(), fc.integer({ min: 1, max: 1_000_000 }), fc.boolean())
	.map(([d, c, o]) => new Disagree(d, c, o));
const assign = fc.tuple(fc.nat(), fc.nat()).map(([d, u]) => new Assign(d, u));
const flushNow = fc
	.tuple(fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean())
	.map(([seed, faulty]) => new Flush(seed, faulty));
// Repeats weigh the choice: deposits, flushes and assignments come often enough to meet.
const commands = [see, see, confirm, confirm, reorg, disagree, assign, assign, flushNow, flushNow];

afterEach(async () => {
	await faults.clear();
	await faults.quiet();
});

it("matches the model after any sequence of deposits, confirmations, reorgs, conflicts, assignments and failures", async () => {
	await fc.assert(
		fc.asyncProperty(fc.commands(commands, { maxCommands: 40, size: "large" }), async (cmds) => {
			await faults.clear();
			await resetDatabase(env);
			// Users 0–2 exist; user 3 names nobody (unmatched until an admin assigns it).
			const users = [await createUser(), await createUser(), await createUser()];
			const model: Model = {
				users,
				deposits: [],
				queued: [],
				flushes: [],
				observed: new Map(),
				assigning: new Set(),
			};
			await fc.asyncModelRun(() => ({ model, real: {} }), cmds);
			if (model.queued.length) await flush(model, 1, false);
		}),
		{ numRuns: RUNS, seed: 20261121, endOnFailure: true },
	);
	for (const [what, count] of Object.entries(seen))
		expect(count, `runs never reached: ${what}`).toBeGreaterThan(0);
}, 300_000);
