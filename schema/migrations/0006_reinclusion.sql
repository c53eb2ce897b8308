ALTER TABLE "reversal_shortfalls" DROP CONSTRAINT "reversal_shortfalls_deposit_id_unique";--> statement-breakpoint
DROP INDEX "uq_transactions_deposit_credit";--> statement-breakpoint
DROP INDEX "uq_transactions_deposit_reversal";--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "removed_blocks" bigint[] DEFAULT '{}'::bigint[] NOT NULL;--> statement-breakpoint
UPDATE "deposits" SET "removed_blocks" = ARRAY["block_number"] WHERE "status" IN ('reverted', 'reversed');--> statement-breakpoint
ALTER TABLE "reversal_shortfalls" ADD COLUMN "inclusion" integer DEFAULT 1 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "uq_reversal_shortfalls_inclusion" ON "reversal_shortfalls" USING btree ("deposit_id","inclusion");--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_credit" ON "transactions" USING btree ("related_id",(COALESCE("metadata"->>'inclusion', '1'))) WHERE "transactions"."tx_type" = 'deposit' AND "transactions"."related_entity" = 'deposit';--> statement-breakpoint
CREATE UNIQUE INDEX "uq_transactions_deposit_reversal" ON "transactions" USING btree ("related_id",(COALESCE("metadata"->>'inclusion', '1'))) WHERE "transactions"."tx_type" = 'deposit_reversal' AND "transactions"."related_entity" = 'deposit';