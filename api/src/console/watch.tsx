/**
 * The console's watch route, `/console/watch`: canary against stable, queues, alert rules and
 * refused webhooks (watch-figures.ts reads them), over a window the operator chooses
 * (`?minutes=`). Mounted behind the console's session check.
 *
 * @module
 */
import { Hono } from "hono";
import { apiConfig } from "../config";
import { Layout, Notice } from "./layout";
import { WatchPage } from "./pages/watch";
import type { ConsoleEnv } from "./session";
import { DEFAULT_WATCH_WINDOW, readWatch, WATCH_WINDOWS, type WatchWindow } from "./watch-figures";

export const watchRoutes = new Hono<ConsoleEnv>();

watchRoutes.get("/", async (c) => {
	const asked = c.req.query("minutes");
	const minutes = asked === undefined ? DEFAULT_WATCH_WINDOW : (Number(asked) as WatchWindow);
	if (!WATCH_WINDOWS.includes(minutes)) {
		c.status(422);
		return c.html(
			<Layout title="Watch" admin={c.var.admin} current="/console/watch">
				<h1>Watch</h1>
				<Notice kind="error">
					The window is {WATCH_WINDOWS.join(", ")} minutes, not “{asked}”.{" "}
					<a href="/console/watch">Watch the last {DEFAULT_WATCH_WINDOW} minutes</a>
				</Notice>
			</Layout>,
		);
	}
	const source = apiConfig(c.env).watch;
	// Missing credentials are a setting to make, not a server error: the page says which.
	const watch = source.ok ? await readWatch(source, new Date(), minutes) : source;
	return c.html(<WatchPage admin={c.var.admin} watch={watch} />);
});
