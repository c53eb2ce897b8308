ALTER TYPE "public"."deposit_state" ADD VALUE 'rejected';--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "review_decision" varchar(16);--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "reviewed_by" uuid;--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "reviewed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "deposits" ADD COLUMN "review_reason" text;--> statement-breakpoint
ALTER TABLE "deposits" ADD CONSTRAINT "deposits_reviewed_by_admins_id_fk" FOREIGN KEY ("reviewed_by") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;