ALTER TYPE "public"."deposit_state" ADD VALUE 'held';--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "block_hash" varchar(80);--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "chain_checked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "inclusion" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "hold_reason" varchar(64);--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "hold_detail" jsonb;