CREATE TABLE "adoptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"original_revision" varchar(64),
	"summary" jsonb
);
--> statement-breakpoint
CREATE TABLE "legacy_deposit_rows" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"source" varchar(32) NOT NULL,
	"source_id" uuid NOT NULL,
	"outcome" varchar(16) NOT NULL,
	"deposit_id" uuid,
	"reason" text,
	"original" jsonb NOT NULL,
	"adopted_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "login_throttle" (
	"scope" varchar(16) NOT NULL,
	"username" varchar(64) NOT NULL,
	"failures" integer DEFAULT 0 NOT NULL,
	"locked_until" timestamp with time zone,
	"last_failure_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "login_throttle_scope_username_pk" PRIMARY KEY("scope","username")
);
--> statement-breakpoint
CREATE TABLE "wallet_baselines" (
	"user_id" uuid PRIMARY KEY NOT NULL,
	"deposit_balance" numeric(30, 8) NOT NULL,
	"winning_balance" numeric(30, 8) NOT NULL,
	"bonus_balance" numeric(30, 8) NOT NULL,
	"movements" jsonb NOT NULL,
	"taken_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "users" DROP CONSTRAINT "users_telegram_id_unique";--> statement-breakpoint
DROP INDEX "uq_transactions_deposit_credit";--> statement-breakpoint
DROP INDEX "uq_transactions_deposit_reversal";--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "telegram_id" SET DEFAULT 0;--> statement-breakpoint
UPDATE "users" SET "telegram_id" = 0 WHERE "telegram_id" IS NULL;--> statement-breakpoint
ALTER TABLE "users" ALTER COLUMN "telegram_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "family_id" uuid DEFAULT gen_random_uuid() NOT NULL;--> statement-breakpoint
ALTER TABLE "refresh_tokens" ADD COLUMN "rotated_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "legacy_deposit_rows" ADD CONSTRAINT "legacy_deposit_rows_deposit_id_deposits_id_fk" FOREIGN KEY ("deposit_id") REFERENCES "public"."deposits"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "wallet_baselines" ADD CONSTRAINT "wallet_baselines_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_legacy_deposit_rows_source" ON "legacy_deposit_rows" USING btree ("source","source_id");--> statement-breakpoint
CREATE INDEX "idx_legacy_deposit_rows_deposit_id" ON "legacy_deposit_rows" USING btree ("deposit_id");--> statement-breakpoint
CREATE INDEX "idx_login_throttle_last_failure_at" ON "login_throttle" USING btree ("last_failure_at");--> statement-breakpoint
CREATE INDEX "idx_refresh_tokens_family_id" ON "refresh_tokens" USING btree ("family_id");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_users_telegram_id" ON "users" USING btree ("telegram_id") WHERE "users"."telegram_id" <> 0;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_credit" ON "transactions" USING btree ("related_id") WHERE "transactions"."tx_type" = 'deposit' AND "transactions"."related_entity" = 'deposit';--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_reversal" ON "transactions" USING btree ("related_id") WHERE "transactions"."tx_type" = 'deposit_reversal' AND "transactions"."related_entity" = 'deposit';