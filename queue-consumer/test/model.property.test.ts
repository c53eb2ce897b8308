/**
 * Model-based property test (fast-check commands): random sequences of what the outside world
 * does — deposits seen (to a user, or to a deposit address), confirmations in any order, reorgs
 * and re-inclusions in new blocks, deposit addresses issued, disagreeing amounts, admins
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
import { deliverAtLeastOnce, seededRandom } from "./support/at-least-once";
import {
	again,
	checkLedger,
	createUser,
	depositMessage,
	faults,
	registerAddress,
	sql,
} from "./support/consumer";
import { checkAgainstModel, type Observed } from "./support/model";

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
	reincluded: 0,
	addressCredits: 0,
	faultyFlushes: 0,
};

/** Deposit addresses the runs send to; issued to players by RegisterAddress (EVM, on bep20). */
const ADDRESSES = [
	"0x00000000000000000000000000000000000000a1",
	"0x00000000000000000000000000000000000000a2",
];

interface Model {
	users: string[];
	deposits: DepositMessage[];
	queued: DepositMessage[];
	flushes: DepositMessage[][];
	observed: Observed;
	/** Deposits with an assignment waiting in the queue (one admin decision at a time). */
	assigning: Set<string>;
	/** Per deposit, the block it is in now (null: removed by a reorg, not re-included yet). */
	blocks: Map<string, string | null>;
	nextBlock: number;
	/** Issued addresses: holder and the first flush after issuance (see model.ts). */
	addresses: Map<string, { user: string; fromFlush: number }>;
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
		/** Sent to a deposit address (bep20) instead of naming a user. */
		readonly toAddress: number | null,
	) {}
	check = (m: Readonly<Model>) => m.deposits.length < 10;
	async run(m: Model) {
		const legacy = this.confirmations === null;
		const address = this.toAddress === null ? null : ADDRESSES[this.toAddress % ADDRESSES.length]!;
		const block = String(m.nextBlock++);
		const base = await depositMessage({
			chain: address ? "bep20" : this.chain,
			amount: money(this.cents),
			user_id: address ? null : this.user < m.users.length ? m.users[this.user]! : crypto.randomUUID(),
			to_address: address,
			confirmations: this.confirmations,
			status: legacy ? "confirmed" : "pending",
			block_number: block,
		});
		m.blocks.set(base.tx_id, block);
		const first = legacy ? base : again(base, { status: statusFor(base, this.confirmations ?? 0) });
		m.deposits.push(base);
		m.queued.push(first);
	}
	toString = () =>
		`see(${this.toAddress === null ? `user ${this.user}` : `address ${this.toAddress}`}, ${money(this.cents)}, ${this.confirmations} conf, ${this.chain})`;
}

class Confirm implements Command {
	constructor(
		readonly deposit: number,
		readonly confirmations: number,
	) {}
	check = (m: Readonly<Model>) => m.deposits.length > 0;
	async run(m: Model) {
		const base = m.deposits[this.deposit % m.deposits.length]!;
		const block = m.blocks.get(base.tx_id);
		if (!block) return; // removed: nothing to confirm until it is included again
		m.queued.push(
			again(base, {
				confirmations: this.confirmations,
				status: statusFor(base, this.confirmations),
				block_number: block,
			}),
		);
	}
	toString = () => `confirm(#${this.deposit}, ${this.confirmations})`;
}

class Reorg implements Command {
	constructor(readonly deposit: number) {}
	check = (m: Readonly<Model>) => m.deposits.length > 0;
	async run(m: Model) {
		const base = m.deposits[this.deposit % m.deposits.length]!;
		const block = m.blocks.get(base.tx_id);
		if (!block) return;
		m.blocks.set(base.tx_id, null);
		m.queued.push(again(base, { status: "removed", block_number: block }));
	}
	toString = () => `reorg(#${this.deposit})`;
}

/** A transfer removed by a reorg is mined again, in a new block, with its own confirmations. */
class Reinclude implements Command {
	constructor(
		readonly deposit: number,
		readonly confirmations: number,
	) {}
	check = (m: Readonly<Model>) => m.deposits.some((d) => m.blocks.get(d.tx_id) === null);
	async run(m: Model) {
		const removed = m.deposits.filter((d) => m.blocks.get(d.tx_id) === null);
		const base = removed[this.deposit % removed.length]!;
		const block = String(m.nextBlock++);
		m.blocks.set(base.tx_id, block);
		seen.reincluded++;
		m.queued.push(
			again(base, {
				confirmations: this.confirmations,
				status: statusFor(base, this.confirmations),
				block_number: block,
			}),
		);
	}
	toString = () => `reinclude(removed #${this.deposit}, ${this.confirmations} conf)`;
}

/** An admin registers a deposit address to a player (once per address). */
class RegisterAddress implements Command {
	constructor(
		readonly address: number,
		readonly user: number,
	) {}
	check = (m: Readonly<Model>) => m.addresses.size < ADDRESSES.length;
	async run(m: Model) {
		const address = ADDRESSES.find((a) => !m.addresses.has(a))!;
		const user = m.users[this.user % m.users.length]!;
		await registerAddress(user, address);
		m.addresses.set(address, { user, fromFlush: m.flushes.length });
	}
	toString = () => `register(next address, user ${this.user})`;
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
			"SELECT amount::text, currency, confirmations, block_number::text AS block_number FROM deposits WHERE id = $1",
			[base.tx_id],
		)) as { amount: string; currency: string; confirmations: number | null; block_number: string | null }[];
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
				block_number: row!.block_number,
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
	m.observed = await checkAgainstModel(
		m.flushes,
		{ thresholds: THRESHOLDS, users: m.users, addresses: m.addresses },
		m.observed,
	);
	const report = await checkLedger(m.deposits.map((d) => d.tx_id));
	if (faulty) seen.faultyFlushes++;
	for (const key of ["credited", "reversed", "reverted", "unmatched"] as const)
		seen[key] += report.deposits[key] ?? 0;
	seen.conflicts += report.conflicts;
	const [fromAddresses] = await sql().query(
		"SELECT count(*)::int AS n FROM deposits WHERE status = 'credited' AND to_address IS NOT NULL",
	);
	seen.addressCredits += (fromAddresses as { n: number }).n;
}

const see = fc
	.tuple(
		fc.integer({ min: 0, max: 3 }),
		fc.integer({ min: 1, max: 1_000_000 }),
		fc.option(fc.nat(30)),
		fc.boolean(),
		fc.option(fc.nat(1), { freq: 3 }),
	)
	.map(
		([user, cents, conf, tron, address]) =>
			new SeeDeposit(user, cents, conf, tron ? "trc20" : "bep20", address),
	);
const confirm = fc.tuple(fc.nat(), fc.nat(40)).map(([d, conf]) => new Confirm(d, conf));
const reorg = fc.nat().map((d) => new Reorg(d));
const reinclude = fc.tuple(fc.nat(), fc.nat(40)).map(([d, conf]) => new Reinclude(d, conf));
const register = fc.tuple(fc.nat(), fc.nat()).map(([a, u]) => new RegisterAddress(a, u));
const disagree = fc
	.tuple(fc.nat(), fc.integer({ min: 1, max: 1_000_000 }), fc.boolean())
	.map(([d, c, o]) => new Disagree(d, c, o));
const assign = fc.tuple(fc.nat(), fc.nat()).map(([d, u]) => new Assign(d, u));
const flushNow = fc
	.tuple(fc.integer({ min: 1, max: 2 ** 30 }), fc.boolean())
	.map(([seed, faulty]) => new Flush(seed, faulty));
// Repeats weigh the choice: deposits, flushes and assignments come often enough to meet.
const commands = [
	see,
	see,
	confirm,
	confirm,
	reorg,
	reinclude,
	reinclude,
	register,
	disagree,
	assign,
	assign,
	flushNow,
	flushNow,
];

afterEach(async () => {
	await faults.clear();
	await faults.quiet();
});

it("matches the model after any sequence of deposits, confirmations, reorgs, re-inclusions, addresses issued, conflicts, assignments and failures", async () => {
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
				blocks: new Map(),
				nextBlock: 1000,
				addresses: new Map(),
			};
			await fc.asyncModelRun(() => ({ model, real: {} }), cmds);
			if (model.queued.length) await flush(model, 1, false);
		}),
		{ numRuns: RUNS, seed: 20261121, endOnFailure: true },
	);
	for (const [what, count] of Object.entries(seen))
		expect(count, `runs never reached: ${what}`).toBeGreaterThan(0);
}, 300_000);
