CREATE TABLE "deposit_deliveries" (
	"deposit_id" uuid NOT NULL,
	"webhook_id" varchar(256) NOT NULL,
	"message_id" varchar(128) NOT NULL,
	"attempts" integer NOT NULL,
	"status" varchar(16) NOT NULL,
	"confirmations" integer,
	"amount" numeric(30, 8) NOT NULL,
	"currency" varchar(16) NOT NULL,
	"source" varchar(32),
	"edge_version" varchar(64),
	"consumer_version" varchar(64),
	"received_at" timestamp with time zone NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "deposit_deliveries_deposit_id_message_id_pk" PRIMARY KEY("deposit_id","message_id")
);
--> statement-breakpoint
CREATE INDEX "idx_deposit_deliveries_webhook_id" ON "deposit_deliveries" USING btree ("webhook_id");