/**
 * The console's watch route, `/console/watch`: canary against stable, queues, alert rules and
 * refused webhooks (watch-figures.ts reads them). Mounted behind the console's session check.
 *
 * @module
 */
import { Hono } from "hono";
import { WatchPage } from "./pages/watch";
import type { ConsoleEnv } from "./session";
import { readWatch, watchSource } from "./watch-figures";

export const watchRoutes = new Hono<ConsoleEnv>();

watchRoutes.get("/", async (c) => {
	const source = watchSource(c.env);
	// Missing credentials are a setting to make, not a server error: the page says which.
	const watch = source.ok ? await readWatch(source, new Date()) : source;
	return c.html(<WatchPage admin={c.var.admin} watch={watch} />);
});
