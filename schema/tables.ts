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
	check,
	index,
	integer,
	jsonb,
	numeric,
	pgEnum,
	pgTable,
	text,
	timestamp,
	uniqueIndex,
	uuid,
	varchar,
} from "drizzle-orm/pg-core";

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

export const users = pgTable("users", {
	id: uuid("id").primaryKey().defaultRandom(),
	// NOT NULL in the original; optional here because web sign-ups have no Telegram account.
	telegramId: bigint("telegram_id", { mode: "bigint" }).unique(),
	username: varchar("username", { length: 48 }).notNull().unique(),
	status: userStatus("status").notNull().default("ACTIVE"),
	passwordHash: text("password_hash"),
	createdAt: createdAt(),
});

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
 * at the deposit through `related_id`, and the partial unique indexes make a second credit or a
 * second reversal of one deposit impossible whatever the application does.
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
		uniqueIndex("uq_transactions_deposit_credit").on(t.relatedId).where(sql`${t.txType} = 'deposit'`),
		uniqueIndex("uq_transactions_deposit_reversal")
			.on(t.relatedId)
			.where(sql`${t.txType} = 'deposit_reversal'`),
	],
);

export const auditLogs = pgTable("audit_logs", {
	id: uuid("id").primaryKey().defaultRandom(),
	adminId: uuid("admin_id").references(() => admins.id, { onDelete: "set null" }),
	action: varchar("action", { length: 128 }).notNull(),
	details: jsonb("details"),
	createdAt: createdAt(),
});

/** Where a deposit stands. `reverted`: removed by a reorg before credit; `reversed`: after. */
export const depositStatus = pgEnum("deposit_state", [
	"pending",
	"credited",
	"unmatched",
	"reverted",
	"reversed",
]);

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
export const reversalShortfalls = pgTable("reversal_shortfalls", {
	id: uuid("id").primaryKey().defaultRandom(),
	depositId: uuid("deposit_id")
		.notNull()
		.unique()
		.references(() => deposits.id, { onDelete: "cascade" }),
	userId: uuid("user_id").references(() => users.id, { onDelete: "set null" }),
	shortfall: money("shortfall").notNull(),
	currency: varchar("currency", { length: 16 }).notNull(),
	createdAt: createdAt(),
	resolvedAt: timestamp("resolved_at", { withTimezone: true }),
});

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

/** Refresh tokens for the account API; only a hash of each token is stored. */
export const refreshTokens = pgTable(
	"refresh_tokens",
	{
		id: uuid("id").primaryKey().defaultRandom(),
		subject: uuid("subject").notNull(),
		role: varchar("role", { length: 16 }).notNull(),
		tokenHash: varchar("token_hash", { length: 128 }).notNull().unique(),
		expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
		revokedAt: timestamp("revoked_at", { withTimezone: true }),
		createdAt: createdAt(),
	},
	(t) => [index("idx_refresh_tokens_subject").on(t.subject)],
);
