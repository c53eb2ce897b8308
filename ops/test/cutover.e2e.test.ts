/**
 * The cutover end to end: the original CricAlgo database (the fixture, seeded the original's
 * way) adopted with `ops adopt --apply`, then the whole system started on it (`npm start`'s
 * stack: wrangler dev with the three Workers, the local queue, the Neon driver, this Postgres), and
 * used as players, admins and senders would: registrations, player and admin logins (the
 * original's bcrypt admin), the original's history redelivered (duplicates), its pending deposit
 * credited once, new deposits credited, a reorg after the player spent the deposit on a
 * contest (the original's way), and `ops reconcile` clean at the end.
 *
 * Needs a Postgres server (TEST_DATABASE_URL), as `ops adopt` does.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Secret, TOTP } from "otpauth";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkLedgerInvariants, formatLedgerReport } from "../../schema/ledger-invariants";
import { depositTxId } from "../../schema/tx-id";
import { hashPassword } from "../../shared/password";
import { joinContestTheOriginalWay } from "../../test/fixtures/cricalgo-original/seed";
import { type LocalStack, startLocalStack } from "../local/stack";
import { signWebhook } from "../webhook-signing";
import { createOriginalDatabase, type OriginalDatabase } from "./support/original-database";
import { runOps } from "./support/run-ops";

let db: OriginalDatabase;
let stack: LocalStack;
let scratch: string;
/** Every tx_id the edge answered 202 for. */
const accepted: string[] = [];

async function api(path: string, init: { body?: unknown; token?: string } = {}) {
	const res = await fetch(`${stack.baseUrl}${path}`, {
		method: init.body === undefined ? "GET" : "POST",
		headers: {
			...(init.body === undefined ? {} : { "content-type": "application/json" }),
			...(init.token ? { authorization: `Bearer ${init.token}` } : {}),
			"cf-connecting-ip": `198.51.100.${1 + (accepted.length % 250)}`,
		},
		body: init.body === undefined ? undefined : JSON.stringify(init.body),
	});
	// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary response documents
	return { status: res.status, body: (await res.json()) as any };
}

/** A signed deposit webhook as the blockchain watcher sends it; returns its tx_id. */
async function deposit(body: Record<string, unknown>): Promise<string> {
	const { headers, body: text } = signWebhook(stack.webhookSecret, {
		chain: "bep20",
		currency: "USDT",
		...body,
	});
	const res = await fetch(`${stack.baseUrl}/api/v1/webhooks/bep20`, { method: "POST", headers, body: text });
	const answer = (await res.json()) as { ok: boolean; tx_id: string };
	expect(res.status, JSON.stringify(answer)).toBe(202);
	accepted.push(answer.tx_id);
	return answer.tx_id;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await probe();
		if (value !== undefined) return value;
		if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs / 1000} s`);
		await new Promise((r) => setTimeout(r, 250));
	}
}

/** The deposit once settlement has stored `confirmations` for it. */
function settled(txId: string, confirmations: number) {
	return until(`deposit ${txId} at ${confirmations} confirmations`, async () => {
		const [row] = await db.query(
			"SELECT status::text AS status, confirmations, user_id FROM deposits WHERE id = $1 AND confirmations = $2",
			[txId, confirmations],
		);
		return row;
	});
}

async function wallet(userId: string) {
	const [row] = await db.query(
		"SELECT deposit_balance::text AS deposit, winning_balance::text AS winning, bonus_balance::text AS bonus FROM wallets WHERE user_id = $1",
		[userId],
	);
	return row;
}

async function ledgerRows(depositId: string) {
	return db.query(
		"SELECT tx_type, amount::text AS amount, metadata FROM transactions WHERE related_entity = 'deposit' AND related_id = $1 ORDER BY created_at, tx_type",
		[depositId],
	);
}

const hash = () => `0x${randomBytes(32).toString("hex")}`;

describe.runIf(process.env.TEST_DATABASE_URL)("the system on the adopted original database", () => {
	beforeAll(async () => {
		db = await createOriginalDatabase("cutover");
		const adopted = await runOps(["adopt", "--url", db.url, "--apply"]);
		expect(adopted.code, adopted.output).toBe(0);
		scratch = mkdtempSync(join(tmpdir(), "cricalgo-cutover-"));
		stack = await startLocalStack({
			edgePort: 0,
			neonPort: 0,
			chainPort: 0,
			// The original's history has no transfers on the local chain, and the new deposits here
			// are synthetic too: the consumer trusts the signed webhooks (docs/chain-verification.md).
			chainVerification: "sender",
			databaseUrl: db.url,
			persistTo: join(scratch, "wrangler-state"),
		});
	}, 240_000);

	afterAll(async () => {
		await stack?.stop();
		if (scratch) rmSync(scratch, { recursive: true, force: true });
		await db?.drop();
	});

	it("registers web players (the original's wallet trigger, telegram_id 0 for each) and refuses a taken name with 409", async () => {
		for (const username of ["first_web_player", "second_web_player"]) {
			const res = await api("/api/v1/register", { body: { username, password: `${username}-password` } });
			expect(res.status, JSON.stringify(res.body)).toBe(201);
			expect(res.body).toMatchObject({
				username,
				telegram_id: null,
				wallet: { deposit_balance: "0.00000000" },
			});
		}
		const rows = await db.query(
			"SELECT u.telegram_id::text AS t, count(w.*)::int AS wallets FROM users u JOIN wallets w ON w.user_id = u.id WHERE u.username LIKE '%_web_player' GROUP BY u.id",
		);
		expect(rows).toEqual([
			{ t: "0", wallets: 1 },
			{ t: "0", wallets: 1 },
		]);
		const taken = await api("/api/v1/register", {
			body: { username: db.seed.players.ravi.username, password: "ravi-impostor-pw" },
		});
		expect(taken).toMatchObject({
			status: 409,
			body: {
				error: { code: "conflict", fields: [{ path: "username", message: "this username is taken" }] },
			},
		});
	});

	it("logs players in, and the original's bcrypt admin with its TOTP code (the hash then replaced)", async () => {
		const player = await api("/api/v1/login", {
			body: { username: "first_web_player", password: "first_web_player-password" },
		});
		expect(player).toMatchObject({ status: 200, body: { role: "user" } });
		// The original's players have no password: they cannot log in with one.
		const original = await api("/api/v1/login", {
			body: { username: db.seed.players.ravi.username, password: "anything-at-all" },
		});
		expect(original.status).toBe(401);

		const { admin } = db.seed;
		const code = new TOTP({ secret: Secret.fromBase32(admin.totpSecret) }).generate();
		const login = await api("/api/v1/login", {
			body: { username: admin.username, password: admin.password, totp_code: code },
		});
		expect(login, JSON.stringify(login.body)).toMatchObject({ status: 200, body: { role: "admin" } });
		const [row] = await db.query("SELECT password_hash FROM admins WHERE id = $1", [admin.id]);
		expect(row!.password_hash).toMatch(/^pbkdf2_sha256\$/);
	});

	it("answers the original's credited history, redelivered, as duplicates: nothing is credited again", async () => {
		const before = await db.query("SELECT user_id, deposit_balance::text FROM wallets ORDER BY user_id");
		const credited = Object.values(db.seed.credited);
		const ids = await Promise.all(
			credited.map((d) =>
				deposit({ tx_hash: d.txHash, amount: d.amount, confirmations: 15, user_id: d.userId }),
			),
		);
		for (const [i, id] of ids.entries()) {
			expect(id).toBe(await depositTxId("bep20", credited[i]!.txHash, 0));
			expect(await settled(id, 15)).toMatchObject({ status: "credited", user_id: credited[i]!.userId });
			expect((await ledgerRows(id)).map((r) => r.tx_type)).toEqual(["deposit"]);
		}
		expect(await db.query("SELECT user_id, deposit_balance::text FROM wallets ORDER BY user_id")).toEqual(
			before,
		);
	});

	it("credits the original's pending deposit once, and its old row is neither a second credit nor listed as one", async () => {
		const { pending, players } = db.seed;
		const before = await wallet(pending.userId);
		const id = await deposit({
			tx_hash: pending.txHash,
			amount: pending.amount,
			confirmations: 12,
			user_id: pending.userId,
		});
		expect(await settled(id, 12)).toMatchObject({ status: "credited" });
		const again = await deposit({
			tx_hash: pending.txHash,
			amount: pending.amount,
			confirmations: 14,
			user_id: pending.userId,
		});
		await settled(again, 14);
		expect(await wallet(pending.userId)).toMatchObject({
			deposit: (Number(before!.deposit) + 30).toFixed(8),
		});
		expect((await ledgerRows(id)).map((r) => [r.tx_type, r.amount])).toEqual([["deposit", "30.00000000"]]);

		// The player looks at the history (the original never gave players passwords: one is set here).
		await db.query("UPDATE users SET password_hash = $2 WHERE id = $1", [
			players.arjun.id,
			await hashPassword("arjun-web-password"),
		]);
		const login = await api("/api/v1/login", {
			body: { username: players.arjun.username, password: "arjun-web-password" },
		});
		const list = await api("/api/v1/transactions", { token: login.body.access_token });
		expect(list.status).toBe(200);
		const thirty = list.body.items.filter((t: { amount: string }) => t.amount === "30.00000000");
		expect(thirty).toEqual([expect.objectContaining({ type: "deposit", related_id: id })]);
		expect(list.body.items.some((t: { type: string }) => t.type === "deposit_superseded")).toBe(false);
	});

	it("credits new deposits to new and to the original's players", async () => {
		const [newcomer] = await db.query("SELECT id FROM users WHERE username = 'first_web_player'");
		const meera = db.seed.players.meera;
		const forNewcomer = await deposit({
			tx_hash: hash(),
			amount: "20",
			confirmations: 12,
			user_id: newcomer!.id,
		});
		const forMeera = await deposit({ tx_hash: hash(), amount: "30", confirmations: 12, user_id: meera.id });
		expect(await settled(forNewcomer, 12)).toMatchObject({ status: "credited" });
		expect(await settled(forMeera, 12)).toMatchObject({ status: "credited" });
		const login = await api("/api/v1/login", {
			body: { username: "first_web_player", password: "first_web_player-password" },
		});
		const seen = await api("/api/v1/wallet", { token: login.body.access_token });
		expect(seen.body).toMatchObject({ deposit_balance: "20.00000000" });
		expect(await wallet(meera.id)).toMatchObject({ deposit: "35.25000000", bonus: "10.00000000" });
	});

	it("reverses a deposit the player spent on a contest: from deposit, then winning, never bonus; the rest a shortfall, the player frozen", async () => {
		const { ravi, meera } = db.seed.players;
		const [contest] = await db.query(
			`INSERT INTO contests (match_id, code, title, entry_fee, status) SELECT match_id, 'IND-AUS-2', 'Final over', 1, 'open'
			 FROM contests LIMIT 1 RETURNING id`,
		);
		// Ravi: 125.5 deposit, 47.5 winning, 10 bonus; a new deposit of 40, then a 171.5 entry
		// (165.5 from deposit, 6 from bonus), then the deposit's block is reorged away.
		const raviDeposit = hash();
		const raviId = await deposit({
			tx_hash: raviDeposit,
			amount: "40",
			confirmations: 12,
			user_id: ravi.id,
			block_number: 41_000_100,
		});
		await settled(raviId, 12);
		await joinContestTheOriginalWay(db.query, ravi.id, contest!.id as string, "171.5");
		expect(await wallet(ravi.id)).toEqual({
			deposit: "0.00000000",
			winning: "47.50000000",
			bonus: "4.00000000",
		});
		// Meera: the 30 credited above and her 5.25, spent on a 40 entry (35.25 + 4.75 bonus).
		await joinContestTheOriginalWay(db.query, meera.id, contest!.id as string, "40");
		const [meeraDeposit] = await db.query(
			"SELECT id, tx_hash FROM deposits WHERE user_id = $1 AND amount = 30 AND first_seen_at > now() - interval '1 hour'",
			[meera.id],
		);

		await deposit({
			tx_hash: raviDeposit,
			amount: "40",
			confirmations: 12,
			status: "removed",
			user_id: ravi.id,
			block_number: 41_000_100,
		});
		await deposit({
			tx_hash: meeraDeposit!.tx_hash,
			amount: "30",
			confirmations: 12,
			status: "removed",
			user_id: meera.id,
		});
		await until("both reversed", async () => {
			const rows = await db.query(
				"SELECT id FROM deposits WHERE id = ANY ($1::uuid[]) AND status = 'reversed'",
				[[raviId, meeraDeposit!.id]],
			);
			return rows.length === 2 ? rows : undefined;
		});

		// Ravi: the 40 comes from winning (deposit is empty); bonus stays; nothing owed.
		expect(await wallet(ravi.id)).toEqual({
			deposit: "0.00000000",
			winning: "7.50000000",
			bonus: "4.00000000",
		});
		const [raviReversal] = (await ledgerRows(raviId)).filter((r) => r.tx_type === "deposit_reversal");
		expect(raviReversal).toMatchObject({
			amount: "40.00000000",
			metadata: expect.objectContaining({
				from_deposit: "0.00000000",
				from_winning: "40.00000000",
				shortfall: "0.00000000",
			}),
		});
		// Meera: nothing left but bonus, which a reversal never takes: all 30 is a shortfall, she is frozen.
		expect(await wallet(meera.id)).toEqual({
			deposit: "0.00000000",
			winning: "0.00000000",
			bonus: "5.25000000",
		});
		expect(
			await db.query(
				"SELECT s.shortfall::text AS shortfall, u.status::text AS status FROM reversal_shortfalls s JOIN users u ON u.id = s.user_id WHERE s.deposit_id = $1",
				[meeraDeposit!.id],
			),
		).toEqual([{ shortfall: "30.00000000", status: "FROZEN" }]);
	});

	it("leaves a ledger that ops reconcile finds clean, every accepted webhook accounted for", async () => {
		const report = await checkLedgerInvariants(db.query, { acceptedTxIds: accepted });
		expect(report.ok, formatLedgerReport(report)).toBe(true);
		expect(report.parked).toBe(4);
		const reconcile = await runOps(["reconcile", "--url", db.url]);
		expect(reconcile.code, reconcile.output).toBe(0);
		expect(reconcile.stdout).toContain("accounted from their baselines");
		expect(reconcile.stdout).toContain("ledger invariants hold");
	});
});
