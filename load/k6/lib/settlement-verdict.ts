/**
 * The settlement verdict, from what the run sent (the deposit plan) and what the players' own
 * ledgers and wallets say: every deposit credited exactly once, with its exact amount, to its
 * player, never reversed, and every wallet holding what its ledger credited. Pure (no k6 API),
 * so Node tests can give it any ledger, including the broken ones a healthy system never makes.
 *
 * Amounts are compared in whole cents (the plan's amounts have two decimals); an amount with a
 * non-zero digit past the cents, or too large to count exactly, never compares equal.
 *
 * @module
 */

/** One deposit the run sent, as the plan says it must end up. */
export interface ExpectedDeposit {
	/** The iteration that created it. */
	deposit: number;
	txId: string;
	/** Index into the run's players. */
	player: number;
	amount: string;
}

/** A row of `GET /api/v1/transactions` (the fields the verdict reads). */
export interface LedgerRow {
	type: string;
	amount: string;
	related_id: string | null;
	created_at: string | null;
	metadata?: unknown;
}

/** What the check read for one player. */
export interface PlayerBooks {
	username: string;
	rows: LedgerRow[];
	/** The wallet's `deposit_balance`. */
	depositBalance: string;
}

export interface Verdict {
	ok: boolean;
	/** Deposits the run sent. */
	deposits: number;
	/** Of them, credited exactly once, with their amount, to their player, not reversed. */
	settled: Set<number>;
	notCredited: number[];
	creditedTwice: number[];
	wrongAmount: number[];
	/** Credited to another player than the one the webhook named. */
	wrongPlayer: number[];
	reversed: number[];
	/** Credit rows of deposits this run did not send (allowed only on an earlier run's players). */
	unplanned: number;
	walletsMismatched: { username: string; depositBalance: string; ledger: string }[];
	/** When the last of the run's deposits was credited (ms since the epoch), if any was. */
	lastCreditAt: number | null;
}

/** An exact decimal string in cents, or NaN when it is not a whole number of cents. */
export function toCents(amount: string): number {
	const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(amount.trim());
	if (!m) return Number.NaN;
	const fraction = (m[3] ?? "").padEnd(2, "0");
	if (/[^0]/.test(fraction.slice(2))) return Number.NaN;
	const cents = Number(m[2]) * 100 + Number(fraction.slice(0, 2));
	if (!Number.isSafeInteger(cents)) return Number.NaN;
	return m[1] ? -cents : cents;
}

/** Cents as a decimal string with two places. */
export function fromCents(cents: number): string {
	if (Number.isNaN(cents)) return "not a whole number of cents";
	const sign = cents < 0 ? "-" : "";
	const abs = Math.abs(cents);
	return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** An API timestamp (ISO 8601, UTC, up to microseconds) in ms since the epoch. */
export function timestampMs(iso: string | null): number | null {
	const m = iso && /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/.exec(iso);
	if (!m) return null;
	const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
	return Date.UTC(y, mo - 1, d, h, mi, s) + Number(`0.${m[7] ?? "0"}`) * 1000;
}

/** From a reversal row, what it took from the deposit balance (contract: metadata.from_deposit). */
function takenFromDeposit(row: LedgerRow): number {
	const meta = row.metadata as { from_deposit?: unknown } | null | undefined;
	return toCents(typeof meta?.from_deposit === "string" ? meta.from_deposit : row.amount);
}

/**
 * Judges the run. `earlierRunsAllowed` is true when the players existed before the run (an
 * earlier run with the same RUN_ID credited them): their other credits are then expected.
 */
export function judgeSettlement(
	expected: ExpectedDeposit[],
	books: PlayerBooks[],
	earlierRunsAllowed: boolean,
): Verdict {
	const byTx = new Map(expected.map((e) => [e.txId, e]));
	const credits = new Map<string, { player: number; row: LedgerRow }[]>();
	const reversals = new Set<string>();
	let unplanned = 0;
	const walletsMismatched: Verdict["walletsMismatched"] = [];

	books.forEach((book, player) => {
		let ledger = 0;
		for (const row of book.rows) {
			if (row.type === "deposit") {
				ledger += toCents(row.amount);
				const id = row.related_id ?? "";
				if (!byTx.has(id)) {
					unplanned++;
					continue;
				}
				credits.set(id, [...(credits.get(id) ?? []), { player, row }]);
			} else if (row.type === "deposit_reversal") {
				ledger -= takenFromDeposit(row);
				if (row.related_id) reversals.add(row.related_id);
			}
		}
		if (toCents(book.depositBalance) !== ledger) {
			walletsMismatched.push({
				username: book.username,
				depositBalance: book.depositBalance,
				ledger: fromCents(ledger),
			});
		}
	});

	const verdict: Verdict = {
		ok: false,
		deposits: expected.length,
		settled: new Set(),
		notCredited: [],
		creditedTwice: [],
		wrongAmount: [],
		wrongPlayer: [],
		reversed: [],
		unplanned,
		walletsMismatched,
		lastCreditAt: null,
	};
	for (const e of expected) {
		const rows = credits.get(e.txId) ?? [];
		for (const { row } of rows) {
			const at = timestampMs(row.created_at);
			if (at !== null && (verdict.lastCreditAt === null || at > verdict.lastCreditAt))
				verdict.lastCreditAt = at;
		}
		if (rows.length === 0) verdict.notCredited.push(e.deposit);
		else if (rows.length > 1) verdict.creditedTwice.push(e.deposit);
		else if (rows[0]?.player !== e.player) verdict.wrongPlayer.push(e.deposit);
		else if (toCents(rows[0].row.amount) !== toCents(e.amount)) verdict.wrongAmount.push(e.deposit);
		else if (reversals.has(e.txId)) verdict.reversed.push(e.deposit);
		else verdict.settled.add(e.deposit);
	}
	verdict.ok =
		expected.length > 0 &&
		verdict.settled.size === expected.length &&
		(earlierRunsAllowed || unplanned === 0) &&
		walletsMismatched.length === 0;
	return verdict;
}

/**
 * The verdict in a few lines for the run's log; `examples` says what the API tells of a few
 * deposits, `earlierRunsAllowed` as for judgeSettlement.
 */
export function describeVerdict(
	v: Verdict,
	examples: (deposits: number[]) => string,
	earlierRunsAllowed: boolean,
): string[] {
	const lines = [
		`${v.settled.size} of ${v.deposits} deposits credited exactly once, with their amount, to their player`,
	];
	const list = (label: string, deposits: number[]) => {
		if (deposits.length) lines.push(`${deposits.length} ${label}: ${examples(deposits)}`);
	};
	list("not credited", v.notCredited);
	list("credited more than once", v.creditedTwice);
	list("credited with another amount", v.wrongAmount);
	list("credited to another player", v.wrongPlayer);
	list("reversed", v.reversed);
	if (v.unplanned) {
		lines.push(
			earlierRunsAllowed
				? `(${v.unplanned} more credits on these players come from an earlier run with this RUN_ID)`
				: `${v.unplanned} credit(s) of deposits this run did not send`,
		);
	}
	for (const w of v.walletsMismatched) {
		lines.push(`${w.username}: wallet holds ${w.depositBalance}, its ledger credits ${w.ledger}`);
	}
	if (v.deposits === 0) lines.push("the run sent no deposit, so nothing was verified");
	return lines;
}
