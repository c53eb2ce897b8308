/**
 * How the original platform's deposit records become deposits of this system: the rules of the
 * backfill, as a pure function of the records (so they are tested on their own, and a dry run
 * shows exactly what `--apply` will do).
 *
 * The original records a deposit two ways. Its webhook task writes a `transactions` row of type
 * `deposit` (`metadata.tx_hash`, `metadata.chain`, `metadata.confirmations`); its deposit task
 * credits the wallet and sets `processed_at` (and `metadata.status` = confirmed). An admin's
 * approval of a player's claimed hash is a `deposit_requests` row with status `approved`. So:
 *
 * - a credited row (processed_at set, or status confirmed), or an approved request, is a
 *   **credited** deposit: redelivered, it is a duplicate and is never credited again;
 * - an uncredited row is a **pending** deposit, owned by the row's user (a deposit's owner is
 *   fixed when it is first attributed): the next confirmations credit it once;
 * - a request and a row for one hash are one deposit when they agree on user and amount;
 * - anything else is **parked**, with the reason, never guessed: no hash, a hash that is not one
 *   of its chain's, a chain this system does not settle, no user, an amount that is not
 *   positive, another currency than the wallets', two records for one deposit that disagree or
 *   repeat, or a deposit this system already holds. Where the parked records name a deposit
 *   key, that key is **held** (when the schema has the `held` status): a webhook for it is
 *   never credited until an operator decides;
 * - pending and rejected requests are **skipped**: a claim, not a credit.
 *
 * Keys are this system's: (chain, tx_hash normalised as the edge normalises it, log_index, 0
 * when the original did not record one), and the deposit's id is the same UUIDv5 the edge
 * answers for that key, so a redelivered webhook finds the backfilled deposit.
 *
 * @module
 */
import { CHAINS, type Chain } from "../../schema/queue-message";
import { depositTxId, normaliseTxHash } from "../../schema/tx-id";

/** The original's confirmation threshold (its settings): what its credited deposits had reached. */
const ORIGINAL_CONFIRMATIONS = 3;

type LegacySource = "transactions" | "deposit_requests";

/** One deposit record of the original, as read from its table. */
export interface LegacyRecord {
	source: LegacySource;
	id: string;
	userId: string | null;
	/** NUMERIC as text. */
	amount: string;
	currency: string;
	txHash: string | null;
	chain: string | null;
	logIndex: unknown;
	confirmations: unknown;
	blockNumber: unknown;
	toAddress: string | null;
	/** A row: processed by the original's deposit task. A request: its status. */
	credited: boolean;
	requestStatus?: string;
	createdAt: string | null;
	creditedAt: string | null;
}

export type Outcome = "credited" | "pending" | "parked" | "skipped";

/**
 * What the backfill does with the record's own row: `link` makes a credited row this
 * deposit's ledger credit; `supersede` retypes an uncredited row so that neither system
 * counts it as a credit; `ledger_row` writes the credit of a deposit that only a request
 * recorded; `none` leaves the row as it is.
 */
type RowAction = "link" | "supersede" | "ledger_row" | "none";

export interface Decision {
	record: LegacyRecord;
	outcome: Outcome;
	depositId: string | null;
	action: RowAction;
	reason: string | null;
}

interface BackfilledDeposit {
	id: string;
	chain: Chain;
	txHash: string;
	logIndex: number;
	amount: string;
	currency: string;
	userId: string | null;
	status: "credited" | "pending" | "held";
	/** Why a `held` deposit is held: a short code (`hold_reason`); the problem itself is `holdProblem`. */
	holdReason: "adopted_history" | null;
	/** What an operator must look at, in words (kept in `hold_detail`). */
	holdProblem: string | null;
	confirmations: number | null;
	requiredConfirmations: number;
	blockNumber: string | null;
	toAddress: string | null;
	firstSeenAt: string | null;
	creditedAt: string | null;
	/** The records it came from, for its metadata. */
	sources: { source: LegacySource; id: string }[];
}

export interface MappingOptions {
	/** The one currency wallets hold. */
	walletCurrency: string;
	/** Confirmations each chain needs here: what a pending deposit waits for. */
	thresholds: Record<Chain, number>;
	/** Which of these deposit ids this system already holds. */
	existing(ids: string[]): Promise<Set<string>>;
	/** Whether the deposits table knows the `held` status. */
	heldAvailable: boolean;
}

export interface Mapping {
	deposits: BackfilledDeposit[];
	decisions: Decision[];
}

const EVM_HASH = /^0x[0-9a-f]{64}$/;
const TRON_HASH = /^[0-9a-f]{64}$/;

/** `BEP20`, `bep-20`, `bep_20` → `bep20`; anything else is not a chain this system settles. */
export function legacyChain(raw: string | null): Chain | null {
	const name = (raw ?? "bep20")
		.trim()
		.toLowerCase()
		.replace(/[\s_-]/g, "");
	return (CHAINS as readonly string[]).includes(name) ? (name as Chain) : null;
}

function wholeNumber(value: unknown): number | null {
	const n = typeof value === "string" && /^\d+$/.test(value.trim()) ? Number(value) : value;
	return typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? n : null;
}

interface Keyed {
	record: LegacyRecord;
	chain: Chain;
	txHash: string;
	logIndex: number;
	id: string;
}

/** The record's deposit key, or why it has none. */
async function keyOf(record: LegacyRecord, options: MappingOptions): Promise<Keyed | string> {
	if (!record.userId) return "no user: the original recorded nobody to credit";
	if (!(Number(record.amount) > 0)) return `amount ${record.amount} is not positive`;
	if (record.currency !== options.walletCurrency) {
		return `currency ${record.currency}: wallets here hold ${options.walletCurrency}`;
	}
	if (!record.txHash?.trim()) return "no transaction hash (metadata.tx_hash)";
	const chain = legacyChain(record.chain);
	if (!chain) return `chain "${record.chain}" is not one this system settles (${CHAINS.join(", ")})`;
	let txHash = normaliseTxHash(record.txHash);
	if (chain === "trc20") txHash = txHash.replace(/^0x/, "");
	if (!(chain === "trc20" ? TRON_HASH : EVM_HASH).test(txHash)) {
		return `"${record.txHash}" is not a ${chain} transaction hash`;
	}
	const logIndex = wholeNumber(record.logIndex) ?? 0;
	return { record, chain, txHash, logIndex, id: await depositTxId(chain, txHash, logIndex) };
}

function decide(
	record: LegacyRecord,
	outcome: Outcome,
	depositId: string | null,
	action: RowAction,
	reason: string | null,
): Decision {
	return { record, outcome, depositId, action, reason };
}

/** Why a group of records for one key cannot be one deposit, or null when it can. */
function groupProblem(group: Keyed[]): string | null {
	if (group.length === 1) return null;
	const rows = group.filter((g) => g.record.source === "transactions");
	const requests = group.filter((g) => g.record.source === "deposit_requests");
	if (rows.length > 1 || requests.length > 1) {
		return `${rows.length} deposit rows and ${requests.length} approved requests for one deposit: which of them the original credited cannot be told`;
	}
	const [a, b] = [rows[0]!.record, requests[0]!.record];
	if (a.userId !== b.userId) return "its deposit row and its approved request name different users";
	if (Number(a.amount) !== Number(b.amount))
		return `its deposit row says ${a.amount} and its request ${b.amount}`;
	return null;
}

export async function mapLegacyDeposits(records: LegacyRecord[], options: MappingOptions): Promise<Mapping> {
	const decisions: Decision[] = [];
	const deposits: BackfilledDeposit[] = [];
	const groups = new Map<string, Keyed[]>();
	for (const record of records) {
		if (record.source === "deposit_requests" && record.requestStatus !== "approved") {
			decisions.push(
				decide(record, "skipped", null, "none", `a ${record.requestStatus} request is a claim, not a credit`),
			);
			continue;
		}
		const key = await keyOf(record, options);
		if (typeof key === "string") {
			decisions.push(decide(record, "parked", null, "none", key));
			continue;
		}
		groups.set(key.id, [...(groups.get(key.id) ?? []), key]);
	}

	const existing = await options.existing([...groups.keys()]);
	for (const [id, group] of groups) {
		const first = group[0]!;
		const problem = existing.has(id)
			? "this system already holds this deposit: both systems saw it; an operator must compare them"
			: groupProblem(group);
		if (problem) {
			const held = options.heldAvailable && !existing.has(id);
			if (held) {
				deposits.push({
					...depositFields(first, group),
					status: "held",
					holdReason: "adopted_history",
					holdProblem: problem,
					userId: null,
					creditedAt: null,
				});
			}
			for (const g of group) decisions.push(decide(g.record, "parked", held ? id : null, "none", problem));
			continue;
		}
		const row = group.find((g) => g.record.source === "transactions")?.record;
		const request = group.find((g) => g.record.source === "deposit_requests")?.record;
		const credited = group.some((g) => g.record.credited);
		deposits.push({
			...depositFields(first, group),
			status: credited ? "credited" : "pending",
			holdReason: null,
			holdProblem: null,
			requiredConfirmations: credited ? ORIGINAL_CONFIRMATIONS : options.thresholds[first.chain],
		});
		if (row) {
			const action = credited ? (row.credited ? "link" : "supersede") : "supersede";
			decisions.push(decide(row, credited ? "credited" : "pending", id, action, null));
		}
		if (request) {
			decisions.push(decide(request, "credited", id, row?.credited ? "none" : "ledger_row", null));
		}
	}
	return { deposits, decisions };
}

function depositFields(
	first: Keyed,
	group: Keyed[],
): Omit<BackfilledDeposit, "status" | "holdReason" | "holdProblem"> {
	const r = first.record;
	const dates = group
		.map((g) => g.record.createdAt)
		.filter((d): d is string => d !== null)
		.sort();
	const credits = group
		.map((g) => g.record.creditedAt)
		.filter((d): d is string => d !== null)
		.sort();
	const confirmations = group
		.map((g) => wholeNumber(g.record.confirmations))
		.filter((c): c is number => c !== null);
	const block = group.map((g) => wholeNumber(g.record.blockNumber)).find((b) => b !== null);
	return {
		id: first.id,
		chain: first.chain,
		txHash: first.txHash,
		logIndex: first.logIndex,
		amount: r.amount,
		currency: r.currency,
		userId: r.userId,
		confirmations: confirmations.length ? Math.max(...confirmations) : null,
		requiredConfirmations: ORIGINAL_CONFIRMATIONS,
		blockNumber: block === undefined ? null : String(block),
		toAddress: group.map((g) => g.record.toAddress).find((a) => a) ?? null,
		firstSeenAt: dates[0] ?? null,
		creditedAt: credits[0] ?? null,
		sources: group.map((g) => ({ source: g.record.source, id: g.record.id })),
	};
}
