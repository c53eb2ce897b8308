CREATE TYPE "public"."deposit_state" AS ENUM('pending', 'credited', 'unmatched', 'reverted', 'reversed');--> statement-breakpoint
CREATE TYPE "public"."user_status" AS ENUM('ACTIVE', 'FROZEN', 'DISABLED');--> statement-breakpoint
CREATE TABLE "admins" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"username" varchar(64) NOT NULL,
	"password_hash" text NOT NULL,
	"email" varchar(255),
	"totp_secret" text,
	"created_at" timestamp with time zone DEFAULT now(),
	"last_login" timestamp with time zone,
	CONSTRAINT "admins_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "audit_logs" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"admin_id" uuid,
	"action" varchar(128) NOT NULL,
	"details" jsonb,
	"created_at" timestamp with time zone DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE "dead_letters" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"message_id" varchar(128) NOT NULL,
	"tx_id" uuid,
	"source" varchar(16) NOT NULL,
	"reason" text NOT NULL,
	"body" jsonb,
	"attempts" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"redriven_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deposit_addresses" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"chain" varchar(16) NOT NULL,
	"address" varchar(128) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE "deposit_conflicts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deposit_id" uuid NOT NULL,
	"amount" numeric(30, 8) NOT NULL,
	"currency" varchar(16) NOT NULL,
	"webhook_id" varchar(256),
	"payload" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "deposits" (
	"id" uuid PRIMARY KEY NOT NULL,
	"chain" varchar(16) NOT NULL,
	"tx_hash" varchar(128) NOT NULL,
	"log_index" integer DEFAULT 0 NOT NULL,
	"amount" numeric(30, 8) NOT NULL,
	"currency" varchar(16) NOT NULL,
	"to_address" varchar(128),
	"user_id" uuid,
	"status" "deposit_state" DEFAULT 'pending' NOT NULL,
	"confirmations" integer DEFAULT 0 NOT NULL,
	"required_confirmations" integer NOT NULL,
	"block_number" bigint,
	"webhook_id" varchar(256),
	"metadata" jsonb,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"credited_at" timestamp with time zone,
	"reversed_at" timestamp with time zone,
	CONSTRAINT "chk_deposits_amount_pos" CHECK ("deposits"."amount" > 0),
	CONSTRAINT "chk_deposits_confirmations" CHECK ("deposits"."confirmations" >= 0)
);
--> statement-breakpoint
CREATE TABLE "refresh_tokens" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"subject" uuid NOT NULL,
	"role" varchar(16) NOT NULL,
	"token_hash" varchar(128) NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"revoked_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now(),
	CONSTRAINT "refresh_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE TABLE "reversal_shortfalls" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"deposit_id" uuid NOT NULL,
	"user_id" uuid,
	"shortfall" numeric(30, 8) NOT NULL,
	"currency" varchar(16) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now(),
	"resolved_at" timestamp with time zone,
	CONSTRAINT "reversal_shortfalls_deposit_id_unique" UNIQUE("deposit_id")
);
--> statement-breakpoint
CREATE TABLE "transactions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid,
	"tx_type" varchar(64) NOT NULL,
	"amount" numeric(30, 8) NOT NULL,
	"currency" varchar(16) DEFAULT 'USDT' NOT NULL,
	"related_entity" varchar(64),
	"related_id" uuid,
	"metadata" jsonb,
	"created_at" timestamp with time zone DEFAULT now()
);
--> statement-breakpoint
CREATE TABLE "users" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"telegram_id" bigint,
	"username" varchar(48) NOT NULL,
	"status" "user_status" DEFAULT 'ACTIVE' NOT NULL,
	"password_hash" text,
	"created_at" timestamp with time zone DEFAULT now(),
	CONSTRAINT "users_telegram_id_unique" UNIQUE("telegram_id"),
	CONSTRAINT "users_username_unique" UNIQUE("username")
);
--> statement-breakpoint
CREATE TABLE "wallets" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"deposit_balance" numeric(30, 8) DEFAULT '0' NOT NULL,
	"winning_balance" numeric(30, 8) DEFAULT '0' NOT NULL,
	"bonus_balance" numeric(30, 8) DEFAULT '0' NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now(),
	CONSTRAINT "wallets_user_id_unique" UNIQUE("user_id"),
	CONSTRAINT "chk_deposit_nonneg" CHECK ("wallets"."deposit_balance" >= 0),
	CONSTRAINT "chk_winning_nonneg" CHECK ("wallets"."winning_balance" >= 0),
	CONSTRAINT "chk_bonus_nonneg" CHECK ("wallets"."bonus_balance" >= 0)
);
--> statement-breakpoint
ALTER TABLE "audit_logs" ADD CONSTRAINT "audit_logs_admin_id_admins_id_fk" FOREIGN KEY ("admin_id") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deposit_addresses" ADD CONSTRAINT "deposit_addresses_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deposit_conflicts" ADD CONSTRAINT "deposit_conflicts_deposit_id_deposits_id_fk" FOREIGN KEY ("deposit_id") REFERENCES "public"."deposits"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reversal_shortfalls" ADD CONSTRAINT "reversal_shortfalls_deposit_id_deposits_id_fk" FOREIGN KEY ("deposit_id") REFERENCES "public"."deposits"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reversal_shortfalls" ADD CONSTRAINT "reversal_shortfalls_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "transactions" ADD CONSTRAINT "transactions_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallets" ADD CONSTRAINT "wallets_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_dead_letters_message_id" ON "dead_letters" USING btree ("message_id");--> statement-breakpoint
CREATE INDEX "idx_dead_letters_tx_id" ON "dead_letters" USING btree ("tx_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_deposit_addresses_chain_address" ON "deposit_addresses" USING btree ("chain","address");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_deposit_conflicts_delivery" ON "deposit_conflicts" USING btree ("deposit_id","amount","currency");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_deposits_key" ON "deposits" USING btree ("chain","tx_hash","log_index");--> statement-breakpoint
CREATE INDEX "idx_deposits_status" ON "deposits" USING btree ("status");--> statement-breakpoint
CREATE INDEX "idx_deposits_user_id" ON "deposits" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "idx_refresh_tokens_subject" ON "refresh_tokens" USING btree ("subject");--> statement-breakpoint
CREATE INDEX "idx_transactions_user_id" ON "transactions" USING btree ("user_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_credit" ON "transactions" USING btree ("related_id") WHERE "transactions"."tx_type" = 'deposit';--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_reversal" ON "transactions" USING btree ("related_id") WHERE "transactions"."tx_type" = 'deposit_reversal';