/**
 * The console's shortfalls queue: `GET /console/shortfalls` lists the open ones, and
 * `POST /console/shortfalls/:id/resolve` resolves one with a note (and unfreezes the player
 * when it was their last), through the admin API's own route (routes/admin/shortfalls.ts:
 * race-safe, idempotent, audited).
 *
 * @module
 */
import { type Context, Hono } from "hono";
import * as z from "../../../schema/zod";
import { adminApi } from "./admin-api";
import type { PageNotice } from "./layout";
import { ShortfallsPage } from "./pages/shortfalls";
import { apiRefusal, refusal } from "./refusal";
import type { ConsoleEnv } from "./session";

export const shortfallsConsole = new Hono<ConsoleEnv>();

async function shortfallsPage(c: Context<ConsoleEnv>, notice?: PageNotice) {
	const answer = await adminApi<{ items: Record<string, unknown>[] }>(
		c.env,
		c.var.admin.id,
		"GET",
		"/shortfalls?limit=100",
	);
	if (!answer.ok) throw apiRefusal(answer);
	return c.html(<ShortfallsPage admin={c.var.admin} items={answer.body.items} notice={notice} />);
}

const DONE: Record<string, string> = {
	unfrozen: "Resolved, and the player is active again. The note is in the audit log.",
	frozen:
		"Resolved. The player stays frozen: another shortfall of theirs is open, unfreezing was not asked, or they were frozen for another reason before the shortfall. The note is in the audit log.",
};

shortfallsConsole.get("/shortfalls", (c) => {
	const text = DONE[c.req.query("done") ?? ""];
	return shortfallsPage(c, text ? { kind: "ok", text } : undefined);
});

shortfallsConsole.post("/shortfalls/:id/resolve", async (c) => {
	const id = c.req.param("id").toLowerCase();
	if (!z.uuid().safeParse(id).success)
		return refusal(c, 404, "No such shortfall", "A shortfall's id is a UUID.");
	const form = await c.req.parseBody();
	const answer = await adminApi<{ unfrozen: boolean }>(
		c.env,
		c.var.admin.id,
		"POST",
		`/shortfalls/${id}/resolve`,
		{
			note: typeof form.note === "string" ? form.note : "",
			// An unticked checkbox is not sent at all.
			unfreeze: form.unfreeze === "yes",
		},
	);
	if (!answer.ok) {
		c.status(answer.status as 409);
		return shortfallsPage(c, {
			kind: "error",
			text: `Not resolved: ${answer.body.error?.message ?? `answer ${answer.status}`}`,
		});
	}
	return c.redirect(`/console/shortfalls?done=${answer.body.unfrozen ? "unfrozen" : "frozen"}`, 303);
});
