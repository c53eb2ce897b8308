ALTER TABLE "reversal_shortfalls" ADD COLUMN "froze_user" boolean DEFAULT false NOT NULL;--> statement-breakpoint
-- Shortfalls booked before this column: until now only settlement froze players here, so the
-- oldest open shortfall of each frozen player is taken as the one that froze them.
UPDATE "reversal_shortfalls" s SET "froze_user" = true
FROM (
	SELECT DISTINCT ON (rs."user_id") rs."id"
	FROM "reversal_shortfalls" rs JOIN "users" u ON u."id" = rs."user_id"
	WHERE rs."resolved_at" IS NULL AND u."status" = 'FROZEN'
	ORDER BY rs."user_id", rs."created_at", rs."id"
) first_open
WHERE s."id" = first_open."id";
