import { defineConfig } from "drizzle-kit";

// Migrations are generated (`npm run db:generate`), reviewed and committed; never pushed.
export default defineConfig({
	dialect: "postgresql",
	schema: "./schema/tables.ts",
	out: "./schema/migrations",
});
