/**
 * The backfill of an adoption, in one transaction: reads the original's deposit records that no
 * earlier run has seen (locking them, so the original's deposit task cannot credit one while it
 * is being mapped), maps them (legacy-deposits.ts), and writes the result:
 *
 * - the `deposits` rows (credited, pending, or held);
 * - each credited row **linked** as its deposit's ledger credit (`related_entity` = 'deposit',
 *   `related_id` = the deposit, `metadata.inclusion` = 1), so this system counts it as the one
 *   credit of the deposit's first inclusion; the original ignores those fields;
 * - each uncredited row **superseded** (`tx_type` 'deposit_superseded', `metadata.superseded_by`,
 *   its `tx_hash` kept as `superseded_tx_hash`): neither system credits or lists it as a deposit
 *   any more, and the original, should it run again, finds by that hash only this system's
 *   credit (marked processed); the pending deposit credits once (`ops hand-back` restores the
 *   rows of deposits still pending, for the way back);
 * - a ledger credit for a deposit only an approved request recorded (the wallet already holds
 *   it; the row makes the ledger say so);
 * - one `legacy_deposit_rows` row per record, with the record as it was and the reason where it
 *   was parked or skipped;
 * - on a schema with `transactions.processed_at`, a trigger that marks this system's credits
 *   processed and confirmed as they are written, so the original, should it run again, skips
 *   them instead of crediting them a second time;
 * - at the first adoption, every wallet's baseline (schema/wallet-movements.ts);
 * - an `adoptions` row with the summary.
 *
 * A dry run reads and maps the same way and writes nothing.
 *
 * @module
 */
import { CHAINS, type Chain } from "../../schema/queue-message";
import { movementsQuery } from "../../schema/wallet-movements";
import type { Catalog } from "./catalog";
import { columnOf } from "./catalog";
import { type Decision, type LegacyRecord, type Mapping, mapLegacyDeposits } from "./legacy-deposits";
import type { Session } from "./session";

interface BackfillOptions {
	walletCurrency: string;
	/** Whether deposits can be `held` (settlement's review status, with `hold_reason`). */
	heldAvailable: boolean;
	thresholds: Record<Chain, number>;
	apply: boolean;
	progress: (line: string) => void;
}

export interface BackfillSummary {
	records: number;
	byOutcome: Record<string, number>;
	deposits: Record<string, number>;
	parked: { source: string; id: string; reason: string }[];
	baselines: number;
	trigger: boolean;
	mapping: Mapping;
}

const CHUNK = 500;

/** Trigger name and function of the compatibility trigger (original schema only). */
const PROCESSED_TRIGGER = "tr_edge_deposit_credit_processed";
const PROCESSED_FUNCTION = "fn_edge_deposit_credit_processed";

/** Whether the catalog's deposits can be `held`. */
export function heldIn(catalog: Catalog): boolean {
	return (
		(catalog.enums.get("deposit_state") ?? []).includes("held") &&
		columnOf(catalog, "deposits", "hold_reason") !== undefined
	);
}

/**
 * Records not seen by an earlier run (or handed back to the original since: `ops hand-back`);
 * before the first adoption's migrations, there is no record of any.
 */
function unseen(catalog: Catalog, source: string, alias: string): string {
	return catalog.tables.has("legacy_deposit_rows")
		? `AND NOT EXISTS (SELECT 1 FROM legacy_deposit_rows l WHERE l.source = '${source}' AND l.source_id = ${alias}.id AND l.outcome <> 'handed_back')`
		: "";
}

async function readRecords(db: Session, catalog: Catalog, lock: boolean): Promise<LegacyRecord[]> {
	const processed = columnOf(catalog, "transactions", "processed_at") !== undefined;
	const forUpdate = lock ? "FOR UPDATE OF t" : "";
	const rows = await db.query(
		`SELECT t.id, t.user_id, t.amount::text AS amount, t.currency, t.metadata->>'tx_hash' AS tx_hash,
			t.metadata->>'chain' AS chain, t.metadata->'log_index' AS log_index,
			t.metadata->'confirmations' AS confirmations, t.metadata->'block_number' AS block_number,
			t.metadata->>'to_address' AS to_address,
			(${processed ? "t.processed_at IS NOT NULL OR " : ""}t.metadata->>'status' = 'confirmed') AS credited,
			t.created_at, ${processed ? "t.processed_at" : "NULL::timestamptz"} AS credited_at
		 FROM transactions t
		 WHERE t.tx_type = 'deposit' AND t.related_entity IS DISTINCT FROM 'deposit'
			${unseen(catalog, "transactions", "t")}
		 ORDER BY t.created_at NULLS FIRST, t.id ${forUpdate}`,
	);
	const records: LegacyRecord[] = rows.map((r) => ({
		source: "transactions",
		id: String(r.id),
		userId: (r.user_id as string | null) ?? null,
		amount: String(r.amount),
		currency: String(r.currency),
		txHash: (r.tx_hash as string | null) ?? null,
		chain: (r.chain as string | null) ?? null,
		logIndex: r.log_index,
		confirmations: r.confirmations,
		blockNumber: r.block_number,
		toAddress: (r.to_address as string | null) ?? null,
		credited: r.credited === true,
		createdAt: r.created_at ? new Date(r.created_at as string).toISOString() : null,
		creditedAt: r.credited_at ? new Date(r.credited_at as string).toISOString() : null,
	}));
	if (!catalog.tables.has("deposit_requests")) return records;
	const requests = await db.query(
		`SELECT r.id, r.user_id, r.amount::text AS amount, r.tx_hash, r.chain, r.status::text AS status,
			r.created_at, r.processed_at
		 FROM deposit_requests r
		 WHERE true ${unseen(catalog, "deposit_requests", "r")}
		 ORDER BY r.created_at NULLS FIRST, r.id ${lock ? "FOR UPDATE OF r" : ""}`,
	);
	for (const r of requests) {
		records.push({
			source: "deposit_requests",
			id: String(r.id),
			userId: (r.user_id as string | null) ?? null,
			amount: String(r.amount),
			currency: "",
			txHash: (r.tx_hash as string | null) ?? null,
			chain: (r.chain as string | null) ?? null,
			logIndex: null,
			confirmations: null,
			blockNumber: null,
			toAddress: null,
			credited: r.status === "approved",
			requestStatus: String(r.status),
			createdAt: r.created_at ? new Date(r.created_at as string).toISOString() : null,
			creditedAt: r.processed_at ? new Date(r.processed_at as string).toISOString() : null,
		});
	}
	return records;
}

function chunks<T>(items: T[]): T[][] {
	const out: T[][] = [];
	for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
	return out;
}

/** Reports every few chunks of a long write, so a large history shows it is moving. */
function every(progress: (line: string) => void, what: string, total: number) {
	let done = 0;
	return (n: number) => {
		done += n;
		if (total > 10 * CHUNK && (done % (10 * CHUNK) < n || done === total)) {
			progress(`backfill: ${what} ${done.toLocaleString("en")} / ${total.toLocaleString("en")}`);
		}
	};
}

async function writeDeposits(db: Session, mapping: Mapping, held: boolean, progress: (line: string) => void) {
	const tick = every(progress, "deposits written", mapping.deposits.length);
	for (const part of chunks(mapping.deposits)) {
		await db.query(
			`INSERT INTO deposits (id, chain, tx_hash, log_index, amount, currency, to_address, user_id, status,
				confirmations, required_confirmations, block_number, metadata, first_seen_at, updated_at, credited_at
				${held ? ", hold_reason, hold_detail" : ""})
			 SELECT d.id, d.chain, d.tx_hash, d.log_index, d.amount, d.currency, d.to_address, d.user_id,
				d.status::deposit_state, d.confirmations, d.required_confirmations, d.block_number,
				jsonb_build_object('adopted_from', d.sources), COALESCE(d.first_seen_at, now()), now(),
				CASE WHEN d.status = 'credited' THEN COALESCE(d.credited_at, d.first_seen_at, now()) END
				${held ? ", d.hold_reason, CASE WHEN d.hold_problem IS NOT NULL THEN jsonb_build_object('problem', d.hold_problem) END" : ""}
			 FROM jsonb_to_recordset($1::jsonb) AS d(id uuid, chain text, tx_hash text, log_index int, amount numeric,
				currency text, to_address text, user_id uuid, status text, confirmations int, required_confirmations int,
				block_number bigint, sources jsonb, first_seen_at timestamptz, credited_at timestamptz, hold_reason text, hold_problem text)`,
			[
				JSON.stringify(
					part.map((d) => ({
						id: d.id,
						chain: d.chain,
						tx_hash: d.txHash,
						log_index: d.logIndex,
						amount: d.amount,
						currency: d.currency,
						to_address: d.toAddress,
						user_id: d.userId,
						status: d.status,
						confirmations: d.confirmations,
						required_confirmations: d.requiredConfirmations,
						block_number: d.blockNumber,
						sources: d.sources,
						first_seen_at: d.firstSeenAt,
						credited_at: d.creditedAt,
						hold_reason: d.holdReason,
						hold_problem: d.holdProblem,
					})),
				),
			],
		);
		tick(part.length);
	}
}

async function writeRowActions(db: Session, decisions: Decision[], processed: boolean) {
	const rows = (action: Decision["action"]) =>
		decisions.filter((d) => d.action === action).map((d) => ({ id: d.record.id, deposit_id: d.depositId }));
	for (const part of chunks(rows("link"))) {
		await db.query(
			`UPDATE transactions t SET related_entity = 'deposit', related_id = x.deposit_id,
				metadata = COALESCE(t.metadata, '{}'::jsonb) || jsonb_build_object('inclusion', 1)
			 FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, deposit_id uuid) WHERE t.id = x.id`,
			[JSON.stringify(part)],
		);
	}
	for (const part of chunks(rows("supersede"))) {
		await db.query(
			`UPDATE transactions t SET tx_type = 'deposit_superseded',
				metadata = (COALESCE(t.metadata, '{}'::jsonb) - 'tx_hash')
					|| jsonb_build_object('superseded_by', x.deposit_id, 'superseded_tx_hash', t.metadata->'tx_hash')
			 FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, deposit_id uuid) WHERE t.id = x.id`,
			[JSON.stringify(part)],
		);
	}
	const ledger = decisions.filter((d) => d.action === "ledger_row");
	for (const part of chunks(ledger)) {
		await db.query(
			`INSERT INTO transactions (user_id, tx_type, amount, currency, related_entity, related_id, metadata, created_at
				${processed ? ", processed_at" : ""})
			 SELECT d.user_id, 'deposit', d.amount, d.currency, 'deposit', d.id,
				jsonb_build_object('chain', d.chain, 'tx_hash', d.tx_hash, 'log_index', d.log_index, 'status', 'confirmed',
					'inclusion', 1, 'source', 'deposit_request', 'deposit_request_id', x.request_id),
				COALESCE(x.credited_at, d.credited_at)
				${processed ? ", COALESCE(x.credited_at, d.credited_at)" : ""}
			 FROM jsonb_to_recordset($1::jsonb) AS x(request_id uuid, deposit_id uuid, credited_at timestamptz)
			 JOIN deposits d ON d.id = x.deposit_id`,
			[
				JSON.stringify(
					part.map((d) => ({
						request_id: d.record.id,
						deposit_id: d.depositId,
						credited_at: d.record.creditedAt,
					})),
				),
			],
		);
	}
}

async function writeLegacyRows(db: Session, decisions: Decision[], progress: (line: string) => void) {
	const tick = every(progress, "records mapped", decisions.length);
	for (const part of chunks(decisions)) {
		await db.query(
			`INSERT INTO legacy_deposit_rows (source, source_id, outcome, deposit_id, reason, original)
			 SELECT x.source, x.source_id, x.outcome, x.deposit_id, x.reason,
				CASE x.source
					WHEN 'transactions' THEN (SELECT to_jsonb(t) FROM transactions t WHERE t.id = x.source_id)
					ELSE (SELECT to_jsonb(r) FROM deposit_requests r WHERE r.id = x.source_id)
				END
			 FROM jsonb_to_recordset($1::jsonb) AS x(source text, source_id uuid, outcome text, deposit_id uuid, reason text)
			 ON CONFLICT (source, source_id) DO UPDATE SET outcome = EXCLUDED.outcome, deposit_id = EXCLUDED.deposit_id,
				reason = EXCLUDED.reason, original = EXCLUDED.original, adopted_at = now(), resolved_at = NULL
			 WHERE legacy_deposit_rows.outcome = 'handed_back'`,
			[
				JSON.stringify(
					part.map((d) => ({
						source: d.record.source,
						source_id: d.record.id,
						outcome: d.outcome,
						deposit_id: d.depositId,
						reason: d.reason,
					})),
				),
			],
		);
		tick(part.length);
	}
}

async function installProcessedTrigger(db: Session) {
	await db.query(`
CREATE OR REPLACE FUNCTION ${PROCESSED_FUNCTION}() RETURNS trigger AS $$
BEGIN
	-- This system's deposit credits, as the original platform marks the deposits it processed:
	-- should the original run again, its deposit tasks skip them.
	NEW.processed_at := COALESCE(NEW.processed_at, now());
	NEW.metadata := COALESCE(NEW.metadata, '{}'::jsonb) || '{"status": "confirmed"}'::jsonb;
	RETURN NEW;
END;
$$ LANGUAGE plpgsql`);
	await db.query(`DROP TRIGGER IF EXISTS ${PROCESSED_TRIGGER} ON transactions`);
	await db.query(`
CREATE TRIGGER ${PROCESSED_TRIGGER} BEFORE INSERT ON transactions
	FOR EACH ROW WHEN (NEW.tx_type = 'deposit' AND NEW.related_entity = 'deposit')
	EXECUTE FUNCTION ${PROCESSED_FUNCTION}()`);
}

async function writeBaselines(db: Session): Promise<number> {
	const movements = await movementsQuery((text, params) => db.query(text, params));
	const rows = await db.query(
		`WITH m AS (${movements})
		 INSERT INTO wallet_baselines (user_id, deposit_balance, winning_balance, bonus_balance, movements, taken_at)
		 SELECT m.user_id, m.deposit_balance::numeric, m.winning_balance::numeric, m.bonus_balance::numeric,
			jsonb_build_object('credited', m.credited, 'reversed_from_deposit', m.reversed_from_deposit,
				'reversed_from_winning', m.reversed_from_winning, 'original_credited', m.original_credited,
				'payouts', m.payouts, 'contest_entries', m.contest_entries),
			now()
		 FROM m
		 ON CONFLICT (user_id) DO NOTHING
		 RETURNING 1`,
	);
	return rows.length;
}

function count<T>(items: T[], key: (item: T) => string): Record<string, number> {
	const out: Record<string, number> = {};
	for (const item of items) out[key(item)] = (out[key(item)] ?? 0) + 1;
	return out;
}

/** Runs the backfill (or, without `apply`, only reads and maps). Call inside a transaction. */
export async function backfill(
	db: Session,
	catalog: Catalog,
	options: BackfillOptions,
): Promise<BackfillSummary> {
	const records = await readRecords(db, catalog, options.apply);
	options.progress(`backfill: ${records.length} deposit record(s) of the original not seen before`);
	for (const r of records) if (r.source === "deposit_requests") r.currency = options.walletCurrency;
	const held = options.heldAvailable;
	const mapping = await mapLegacyDeposits(records, {
		walletCurrency: options.walletCurrency,
		thresholds: options.thresholds,
		heldAvailable: held,
		async existing(ids) {
			if (!ids.length || !catalog.tables.has("deposits")) return new Set();
			const rows = await db.query<{ id: string }>("SELECT id FROM deposits WHERE id = ANY ($1::uuid[])", [
				ids,
			]);
			return new Set(rows.map((r) => r.id));
		},
	});
	const processed = columnOf(catalog, "transactions", "processed_at") !== undefined;
	const [prior] = catalog.tables.has("adoptions")
		? await db.query<{ n: number }>("SELECT count(*)::int AS n FROM adoptions WHERE finished_at IS NOT NULL")
		: [];
	let baselines = 0;
	if (options.apply) {
		if (processed) await installProcessedTrigger(db);
		await writeDeposits(db, mapping, held, options.progress);
		options.progress(`backfill: ${mapping.deposits.length} deposit(s) written`);
		await writeLegacyRows(db, mapping.decisions, options.progress);
		await writeRowActions(db, mapping.decisions, processed);
		options.progress(`backfill: ${mapping.decisions.length} record(s) mapped, linked or parked`);
		if (!prior?.n) {
			baselines = await writeBaselines(db);
			options.progress(`backfill: baselines of ${baselines} wallet(s) taken`);
		}
	}
	const summary: BackfillSummary = {
		records: records.length,
		byOutcome: count(mapping.decisions, (d) => d.outcome),
		deposits: count(mapping.deposits, (d) => d.status),
		parked: mapping.decisions
			.filter((d) => d.outcome === "parked")
			.map((d) => ({ source: d.record.source, id: d.record.id, reason: d.reason ?? "" })),
		baselines,
		trigger: processed,
		mapping,
	};
	if (options.apply) {
		const { mapping: _mapping, ...stored } = summary;
		await db.query(
			"INSERT INTO adoptions (finished_at, original_revision, summary) VALUES (now(), $1, $2::jsonb)",
			[await originalRevision(db, catalog), JSON.stringify(stored)],
		);
	}
	return summary;
}

async function originalRevision(db: Session, catalog: Catalog): Promise<string | null> {
	if (!catalog.tables.has("alembic_version")) return null;
	const [row] = await db.query<{ v: string }>("SELECT version_num AS v FROM alembic_version LIMIT 1");
	return row?.v ?? null;
}

/** The chains' thresholds as `bep20=12,erc20=12,trc20=19`. */
export function parseThresholds(text: string): Record<Chain, number> {
	const out: Partial<Record<Chain, number>> = {};
	for (const part of text.split(",")) {
		const [chain, value] = part.split("=").map((s) => s.trim());
		if (
			!(CHAINS as readonly string[]).includes(chain ?? "") ||
			!/^\d+$/.test(value ?? "") ||
			Number(value) < 1
		) {
			throw new Error(
				`--confirmations: "${part}" is not <chain>=<whole number ≥ 1> (chains: ${CHAINS.join(", ")})`,
			);
		}
		out[chain as Chain] = Number(value);
	}
	for (const chain of CHAINS) {
		if (out[chain] === undefined) throw new Error(`--confirmations: no value for ${chain}`);
	}
	return out as Record<Chain, number>;
}
