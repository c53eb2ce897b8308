CREATE TABLE "settlement_pause" (
	"singleton" boolean PRIMARY KEY DEFAULT true NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paused_by" uuid,
	"reason" text NOT NULL,
	CONSTRAINT "settlement_pause_singleton" CHECK ("settlement_pause"."singleton")
);
--> statement-breakpoint
ALTER TABLE "settlement_pause" ADD CONSTRAINT "settlement_pause_paused_by_admins_id_fk" FOREIGN KEY ("paused_by") REFERENCES "public"."admins"("id") ON DELETE set null ON UPDATE no action;