ALTER TABLE "deposits" ALTER COLUMN "confirmations" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "deposits" ALTER COLUMN "confirmations" DROP NOT NULL;