/**
 * The ledger's tables, as Drizzle sees them.
 *
 * `users`, `wallets`, `transactions`, `admins` and `audit_logs` keep the column names and types
 * of the existing CricAlgo database, so the pipeline can settle into it. The rest is new and is
 * only ever changed through generated, reviewed migrations in `schema/migrations/`.
 *
 * @module
 */
import { sql } from "drizzle-orm";
import {
	bigint,
	boolean,
	check,
	index,
	integer,
	jsonb,
	numeric,
	pgEnum,
	pgTable,
	primaryKey,
	text,
	timestamp,
	uniqueIndex,
	uuid,
	varchar,
} from "drizzle-orm/pg-core";
import { DEPOSIT_STATES } from "./deposit-states";

/** NUMERIC(30,8), as in the original ledger. Values travel as exact decimal strings. */
const money = (name: string) => numeric(name, { precision: 30, scale: 8 });
const createdAt = () => timestamp("created_at", { withTimezone: true }).defaultNow();

export const userStatus = pgEnum("user_status", ["ACTIVE", "FROZEN", "DISABLED"]);

export const admins = pgTable("admins", {
	id: uuid("id").primaryKey().defaultRandom(),
	username: varchar("username", { length: 64 }).notNull().unique(),
	passwordHash: text("password_hash").notNull(),
	email: varchar("email", { length: 255 }),
	totpSecret: text("totp_secret"),
	createdAt: createdAt(),
	lastLogin: timestamp("last_login", { withTimezone: true }),
});

/**
 * `telegram_id` keeps the original's convention, which its bot and web code rely on: a
 * Telegram account's id, or 0 for an account without one (the original writes `telegram_id or
 * 0`). Only real ids are unique, so any number of web sign-ups can exist beside the players
 * who came through the bot.
 */
export const users = pgTable(
	"users",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		telegramId: bigint("telegram_id", { mode: "bigint" }).notNull().default(sql`0`),
		username: varchar("username", { length: 48 }).notNull().unique(),
		status: userStatus("status").notNull().default("ACTIVE"),
		passwordHash: text("password_hash"),
		createdAt: createdAt(),
	},
	(t) => [uniqueIndex("uq_users_telegram_id").on(t.telegramId).where(sql`${t.telegramId} <> 0`)],
);

export const wallets = pgTable(
	"wallets",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		userId: uuid("user_id")
			.notNull()
			.unique()
			.references(() => users.id, { onDelete: "cascade" }),
		depositBalance: money("deposit_balance").notNull().default("0"),
		winningBalance: money("winning_balance").notNull().default("0"),
		bonusBalance: money("bonus_balance").notNull().default("0"),
		updatedAt: timestamp("updated_at", { withTimezone: true }).defaultNow(),
	},
	(t) => [
		check("chk_deposit_nonneg", sql`${t.depositBalance} >= 0`),
		check("chk_winning_nonneg", sql`${t.winningBalance} >= 0`),
		check("chk_bonus_nonneg", sql`${t.bonusBalance} >= 0`),
	],
);

/**
 * Ledger of balance movements. A settled deposit writes one `deposit` row; a reorg after credit
 * writes one `deposit_reversal` row (amount positive, the sum actually taken back). Both point
 * at the deposit through `related_entity = 'deposit'` and `related_id`, and the partial unique
 * indexes make a second credit or a second reversal of one deposit impossible whatever the
 * application does. On a database shared with the original platform the table also holds its
 * rows (contest payouts, withdrawals, its own deposit rows, which point elsewhere or nowhere):
 * the indexes cover this system's rows only.
 */
export const transactions = pgTable(
	"transactions",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
		txType: varchar("tx_type", { length: 64 }).notNull(),
		amount: money("amount").notNull(),
		currency: varchar("currency", { length: 16 }).notNull().default("USDT"),
		relatedEntity: varchar("related_entity", { length: 64 }),
		relatedId: uuid("related_id"),
		metadata: jsonb("metadata"),
		createdAt: createdAt(),
	},
	(t) => [
		index("idx_transactions_user_id").on(t.userId),
		// One credit and one reversal per deposit and inclusion (`metadata.inclusion`, 1 where absent:
		// rows written before inclusions were counted, and the original's adopted credits, are the first).
		uniqueIndex("uq_transactions_deposit_credit")
			.on(t.relatedId, sql`(COALESCE(${t.metadata}->>'inclusion', '1'))`)
			.where(sql`${t.txType} = 'deposit' AND ${t.relatedEntity} = 'deposit'`),
		uniqueIndex("uq_transactions_deposit_reversal")
			.on(t.relatedId, sql`(COALESCE(${t.metadata}->>'inclusion', '1'))`)
			.where(sql`${t.txType} = 'deposit_reversal' AND ${t.relatedEntity} = 'deposit'`),
	],
);

export const auditLogs = pgTable("audit_logs", {
	id: uuid("id").primaryKey().defaultRandom(),
	adminId: uuid("admin_id").references(() => admins.id, { onDelete: "set null" }),
	action: varchar("action", { length: 128 }).notNull(),
	details: jsonb("details"),
	createdAt: createdAt(),
});

/**
 * Whether settlement is paused: no row, settlement runs; one row, it is paused (since when, by
 * which admin, why). The key can only be `true`, so there is never more than one row. The
 * consumer reads it before each batch and each chain re-check, and while a row is here it
 * credits nothing and keeps every message for later (queue-consumer/src/settlement-pause.ts).
 * Each pause and resume is also an `audit_logs` row.
 */
export const settlementPause = pgTable(
	"settlement_pause",
	{
		singleton: boolean("singleton").primaryKey().default(true),
		pausedAt: timestamp("paused_at", { withTimezone: true }).notNull().defaultNow(),
		pausedBy: uuid("paused_by").references(() => admins.id, { onDelete: "set null" }),
		reason: text("reason").notNull(),
	},
	(t) => [check("settlement_pause_singleton", sql`${t.singleton}`)],
);

/** Where a deposit stands (schema/deposit-states.ts says what each state means). */
export const depositStatus = pgEnum("deposit_state", DEPOSIT_STATES);

/**
 * One row per on-chain deposit, keyed by (chain, tx_hash, log_index). `id` is the `tx_id` that
 * the edge Worker computed (UUIDv5) and returned to the sender.
 */
export const deposits = pgTable(
	"deposits",
	{
		id: uuid("id").primaryKey(),
		chain: varchar("chain", { length: 16 }).notNull(),
		txHash: varchar("tx_hash", { length: 128 }).notNull(),
		logIndex: integer("log_index").notNull().default(0),
		amount: money("amount").notNull(),
		currency: varchar("currency", { length: 16 }).notNull(),
		toAddress: varchar("to_address", { length: 128 }),
		userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
		status: depositStatus("status").notNull().default("pending"),
		/**
		 * The highest count any delivery reported; never lowered. NULL while no delivery said
		 * (the `{tx_hash, amount, metadata}` shape), so "not said" stays distinct from "0".
		 */
		confirmations: integer("confirmations"),
		/** The chain's threshold when the deposit was last settled (the CONFIRMATIONS var). */
		requiredConfirmations: integer("required_confirmations").notNull(),
		blockNumber: bigint("block_number", { mode: "bigint" }),
		/** The block hash the chain gave when the transfer was verified; a change means a reorg. */
		blockHash: varchar("block_hash", { length: 80 }),
		/** When the transfer was last checked on chain (NULL: never, e.g. in `sender` mode). */
		chainCheckedAt: timestamp("chain_checked_at", { withTimezone: true }),
		/**
		 * Which inclusion of the transfer in a block this row stands for: 1 at first, one more
		 * each time a transfer removed by a reorg is confirmed again. Ledger rows carry it.
		 */
		inclusion: integer("inclusion").notNull().default(1),
		/**
		 * The blocks that reorgs removed the transfer from, so that a late redelivery of a sighting
		 * in one of them is never taken for a re-inclusion. A NULL element: an inclusion whose block
		 * no message named was removed (a later sighting cannot be told from it: held).
		 */
		removedBlocks: bigint("removed_blocks", { mode: "bigint" })
			.array()
			.notNull()
			.default(sql`'{}'::bigint[]`),
		/** Why the deposit is `held` (e.g. `chain_mismatch`); NULL otherwise. */
		holdReason: varchar("hold_reason", { length: 64 }),
		/** What the rules or the chain said when the deposit was held, for the reviewer. */
		holdDetail: jsonb("hold_detail"),
		/**
		 * The review that resolved a hold: `released` (back to settlement) or `rejected`, by
		 * whom, when and why (the audit row has the rest). NULL while nobody reviewed it.
		 */
		reviewDecision: varchar("review_decision", { length: 16 }),
		reviewedBy: uuid("reviewed_by").references(() => admins.id, { onDelete: "set null" }),
		reviewedAt: timestamp("reviewed_at", { withTimezone: true }),
		reviewReason: text("review_reason"),
		webhookId: varchar("webhook_id", { length: 256 }),
		metadata: jsonb("metadata"),
		firstSeenAt: timestamp("first_seen_at", { withTimezone: true }).notNull().defaultNow(),
		updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
		creditedAt: timestamp("credited_at", { withTimezone: true }),
		reversedAt: timestamp("reversed_at", { withTimezone: true }),
	},
	(t) => [
		uniqueIndex("uq_deposits_key").on(t.chain, t.txHash, t.logIndex),
		index("idx_deposits_status").on(t.status),
		index("idx_deposits_user_id").on(t.userId),
		check("chk_deposits_amount_pos", sql`${t.amount} > 0`),
		check("chk_deposits_confirmations", sql`${t.confirmations} >= 0`),
	],
);

/**
 * A `deposits` row as Drizzle reads it. The Workers query with SQL text and snake_case columns,
 * so they take single column types from it (`DepositRow["status"]`) with a type-only import,
 * which puts nothing of Drizzle in their bundles.
 */
export type DepositRow = typeof deposits.$inferSelect;

/** A delivery for a known deposit key that disagrees on amount or currency. Never applied. */
export const depositConflicts = pgTable(
	"deposit_conflicts",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		depositId: uuid("deposit_id")
			.notNull()
			.references(() => deposits.id, { onDelete: "cascade" }),
		amount: money("amount").notNull(),
		currency: varchar("currency", { length: 16 }).notNull(),
		webhookId: varchar("webhook_id", { length: 256 }),
		payload: jsonb("payload").notNull(),
		createdAt: createdAt(),
		resolvedAt: timestamp("resolved_at", { withTimezone: true }),
	},
	(t) => [
		// A redelivered conflicting message is recorded once.
		uniqueIndex("uq_deposit_conflicts_delivery").on(t.depositId, t.amount, t.currency),
	],
);

/**
 * A reversal that the wallet could not cover in full: the wallet's user is frozen and the
 * shortfall waits here for an operator. The ledger never goes negative.
 */
export const reversalShortfalls = pgTable(
	"reversal_shortfalls",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		depositId: uuid("deposit_id")
			.notNull()
			.references(() => deposits.id, { onDelete: "cascade" }),
		/** The inclusion of the deposit whose reversal fell short (one shortfall per inclusion). */
		inclusion: integer("inclusion").notNull().default(1),
		userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
		shortfall: money("shortfall").notNull(),
		currency: varchar("currency", { length: 16 }).notNull(),
		/**
		 * Whether this shortfall is what froze the player (they were ACTIVE when it was booked).
		 * Resolving the player's last open shortfall unfreezes them only then: a player frozen
		 * for another reason (by the platform's own admins, say) stays frozen. Resolving one of
		 * several hands the mark on to an open one.
		 */
		frozeUser: boolean("froze_user").notNull().default(false),
		createdAt: createdAt(),
		resolvedAt: timestamp("resolved_at", { withTimezone: true }),
	},
	(t) => [uniqueIndex("uq_reversal_shortfalls_inclusion").on(t.depositId, t.inclusion)],
);

/**
 * Deposit addresses, one row per (family, address): an EVM address is one key on every EVM
 * chain, so it has one owner on all of them (schema/address-family.ts). Nobody declares an
 * address for themselves: `origin` says how a row came, and `user_id` is who it credits.
 *
 * - `pool`: generated by the platform's wallet and imported by an admin; `user_id` is NULL and
 *   `issued_at` NULL while it waits in the pool, both set when the player route issues it.
 * - `admin`: registered to a player by an admin (audited in `audit_logs`), issued at once.
 *
 * An address is issued once, ever: when its player's account is deleted `user_id` becomes NULL
 * and the address stays retired (`issued_at` kept), never back in the pool for someone else.
 * Settlement attributes a deposit to `user_id` only where it is not NULL.
 */
export const depositAddresses = pgTable(
	"deposit_addresses",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		family: varchar("family", { length: 8 }).notNull(),
		// The stored form: EVM lower-case hex, TRON base58check exactly as given.
		address: varchar("address", { length: 128 }).notNull(),
		userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
		origin: varchar("origin", { length: 8 }).notNull(),
		issuedAt: timestamp("issued_at", { withTimezone: true }),
		createdAt: createdAt(),
	},
	(t) => [
		uniqueIndex("uq_deposit_addresses_family_address").on(t.family, t.address),
		// A player holds at most one pool address per family: concurrent issuance cannot give two.
		uniqueIndex("uq_deposit_addresses_pool_holder")
			.on(t.userId, t.family)
			.where(sql`${t.origin} = 'pool' AND ${t.userId} IS NOT NULL`),
		// The addresses waiting in the pool, oldest import first.
		index("idx_deposit_addresses_unissued").on(t.family, t.createdAt, t.id).where(sql`${t.issuedAt} IS NULL`),
		index("idx_deposit_addresses_user_id").on(t.userId),
		check("chk_deposit_addresses_family", sql`${t.family} IN ('evm', 'tron')`),
		check("chk_deposit_addresses_origin", sql`${t.origin} IN ('pool', 'admin')`),
		// Owned means issued; an admin's registration is issued when it is made.
		check(
			"chk_deposit_addresses_issued",
			sql`(${t.userId} IS NULL OR ${t.issuedAt} IS NOT NULL) AND (${t.origin} = 'pool' OR ${t.issuedAt} IS NOT NULL)`,
		),
	],
);

/**
 * Messages that could not be settled: invalid against the contract, or given up on by the queue
 * (its dead-letter queue is consumed into here). `message_id` makes storing one idempotent.
 */
export const deadLetters = pgTable(
	"dead_letters",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		messageId: varchar("message_id", { length: 128 }).notNull(),
		txId: uuid("tx_id"),
		source: varchar("source", { length: 16 }).notNull(),
		reason: text("reason").notNull(),
		body: jsonb("body"),
		attempts: integer("attempts").notNull().default(0),
		createdAt: createdAt(),
		redrivenAt: timestamp("redriven_at", { withTimezone: true }),
	},
	(t) => [
		uniqueIndex("uq_dead_letters_message_id").on(t.messageId),
		index("idx_dead_letters_tx_id").on(t.txId),
	],
);

/**
 * Every delivery of a deposit that settlement took, one row per queue message: the webhook id,
 * when the edge took it and which Worker versions handled it, what it said (confirmations,
 * status, amount). Written in the settlement batch's transaction, so a delivery is recorded
 * exactly when its message is settled; a redelivered queue message adds nothing. No foreign
 * key: the record stands whatever became of the deposit row. Read by the operators' console.
 */
export const depositDeliveries = pgTable(
	"deposit_deliveries",
	{
		/** The deposit's `tx_id`. */
		depositId: uuid("deposit_id").notNull(),
		webhookId: varchar("webhook_id", { length: 256 }).notNull(),
		messageId: varchar("message_id", { length: 128 }).notNull(),
		attempts: integer("attempts").notNull(),
		status: varchar("status", { length: 16 }).notNull(),
		confirmations: integer("confirmations"),
		amount: money("amount").notNull(),
		currency: varchar("currency", { length: 16 }).notNull(),
		/** The webhook source that sent it (e.g. "moralis"); NULL from producers that predate it. */
		source: varchar("source", { length: 32 }),
		/** The edge Worker's version id that took the webhook; NULL from producers that predate it. */
		edgeVersion: varchar("edge_version", { length: 64 }),
		/** The consumer Worker's version id that settled it. */
		consumerVersion: varchar("consumer_version", { length: 64 }),
		receivedAt: timestamp("received_at", { withTimezone: true }).notNull(),
		recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		// The key is the delivery itself (no surrogate id): one index fewer to write per delivery.
		primaryKey({ columns: [t.depositId, t.messageId] }),
		index("idx_deposit_deliveries_webhook_id").on(t.webhookId),
	],
);

/**
 * Refresh tokens for the account API; only a hash of each token is stored. A login starts a
 * family; each refresh revokes the token it was given (`rotated_at`) and issues the next one in
 * the same family. A rotated token presented again after the grace period revokes its family
 * (one session), not the subject's other sessions.
 */
export const refreshTokens = pgTable(
	"refresh_tokens",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		subject: uuid("subject").notNull(),
		role: varchar("role", { length: 16 }).notNull(),
		tokenHash: varchar("token_hash", { length: 128 }).notNull().unique(),
		familyId: uuid("family_id").notNull().defaultRandom(),
		expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
		revokedAt: timestamp("revoked_at", { withTimezone: true }),
		/** Set when the token was traded for its successor (a refresh), not by a revocation. */
		rotatedAt: timestamp("rotated_at", { withTimezone: true }),
		createdAt: createdAt(),
	},
	(t) => [
		index("idx_refresh_tokens_subject").on(t.subject),
		index("idx_refresh_tokens_family_id").on(t.familyId),
	],
);

/**
 * Failed logins per account name (whether or not the account exists, so a lockout tells
 * nothing about which names are taken): after a few failures in a row the name is locked for a
 * time that doubles with each further failure; a successful login clears the row.
 */
export const loginThrottle = pgTable(
	"login_throttle",
	{
		/** "user" | "admin": the two namespaces of login. */
		scope: varchar("scope", { length: 16 }).notNull(),
		username: varchar("username", { length: 64 }).notNull(),
		failures: integer("failures").notNull().default(0),
		lockedUntil: timestamp("locked_until", { withTimezone: true }),
		lastFailureAt: timestamp("last_failure_at", { withTimezone: true }).notNull().defaultNow(),
	},
	(t) => [
		primaryKey({ columns: [t.scope, t.username] }),
		index("idx_login_throttle_last_failure_at").on(t.lastFailureAt),
	],
);

/**
 * One row per `ops adopt --apply` run on a database that the original platform built: when it
 * started and finished, and what it found and did. The first finished run is the adoption.
 */
export const adoptions = pgTable("adoptions", {
	id: uuid("id").primaryKey().defaultRandom(),
	startedAt: timestamp("started_at", { withTimezone: true }).notNull().defaultNow(),
	finishedAt: timestamp("finished_at", { withTimezone: true }),
	/** The original's Alembic revision at adoption (`alembic_version`), when it had one. */
	originalRevision: varchar("original_revision", { length: 64 }),
	summary: jsonb("summary"),
});

/**
 * Every deposit record of the original platform that `ops adopt` looked at (a `transactions`
 * row of type `deposit`, or an approved `deposit_requests` row), and what became of it: mapped
 * onto a `deposits` row (credited or pending), or parked with the reason no rule could map it.
 * `original` keeps the row's fields as they were before adoption changed them.
 */
export const legacyDepositRows = pgTable(
	"legacy_deposit_rows",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		/** "transactions" | "deposit_requests" */
		source: varchar("source", { length: 32 }).notNull(),
		sourceId: uuid("source_id").notNull(),
		/** "credited" | "pending" | "parked" | "skipped" | "handed_back" (ops hand-back, the way back) */
		outcome: varchar("outcome", { length: 16 }).notNull(),
		depositId: uuid("deposit_id").references(() => deposits.id, { onDelete: "set null" }),
		reason: text("reason"),
		original: jsonb("original").notNull(),
		adoptedAt: timestamp("adopted_at", { withTimezone: true }).notNull().defaultNow(),
		resolvedAt: timestamp("resolved_at", { withTimezone: true }),
	},
	(t) => [
		uniqueIndex("uq_legacy_deposit_rows_source").on(t.source, t.sourceId),
		index("idx_legacy_deposit_rows_deposit_id").on(t.depositId),
	],
);

/**
 * Each wallet as the first `ops adopt --apply` found it: its balances, and in the same snapshot
 * the sums of every kind of movement `ops reconcile` accounts for (`movements`: this system's
 * credits and reversals, the original platform's deposit credits, payouts and contest entries).
 * Reconcile expects a wallet to hold its baseline plus what those sums grew by since, so it
 * needs no timestamps and no history from before adoption. A wallet without a baseline (a
 * database this system created, or a player who joined later) is accounted from zero.
 */
export const walletBaselines = pgTable("wallet_baselines", {
	userId: uuid("user_id")
		.primaryKey()
		.references(() => users.id, { onDelete: "cascade" }),
	depositBalance: money("deposit_balance").notNull(),
	winningBalance: money("winning_balance").notNull(),
	bonusBalance: money("bonus_balance").notNull(),
	/** Decimal strings by movement name (schema/wallet-movements.ts). */
	movements: jsonb("movements").notNull(),
	takenAt: timestamp("taken_at", { withTimezone: true }).notNull().defaultNow(),
});
