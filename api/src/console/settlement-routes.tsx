/**
 * The console's pause and resume of settlement: `POST /console/settlement/pause|resume` with a
 * reason, through the admin API's own routes (routes/admin/settlement.ts: idempotent, audited).
 * The state shows on the home page (pages/settlement-panel.tsx).
 *
 * @module
 */
import { Hono } from "hono";
import { adminApi } from "./admin-api";
import { refusal } from "./refusal";
import type { ConsoleEnv } from "./session";

export const settlementConsole = new Hono<ConsoleEnv>();

for (const action of ["pause", "resume"] as const) {
	settlementConsole.post(`/settlement/${action}`, async (c) => {
		const form = await c.req.parseBody();
		const answer = await adminApi<{ changed: boolean }>(
			c.env,
			c.var.admin.id,
			"POST",
			`/settlement/${action}`,
			{
				reason: typeof form.reason === "string" ? form.reason : "",
			},
		);
		if (!answer.ok) {
			return refusal(
				c,
				answer.status as 422,
				`Settlement not ${action === "pause" ? "paused" : "resumed"}`,
				answer.body.error?.message ?? `the admin API answered ${answer.status}`,
			);
		}
		const done = answer.body.changed
			? `${action}d`
			: action === "pause"
				? "already-paused"
				: "already-running";
		return c.redirect(`/console?done=${done}`, 303);
	});
}

/** The home page's notice after a pause or resume. */
export function settlementNotice(done: string | undefined): { kind: "ok"; text: string } | undefined {
	const texts: Record<string, string> = {
		paused: "Settlement paused: nothing is credited until it is resumed. The pause is in the audit log.",
		resumed: "Settlement resumed: what waited on the queue is being settled. The resume is in the audit log.",
		"already-paused": "Settlement was already paused: nothing changed.",
		"already-running": "Settlement was already running: nothing changed.",
	};
	const text = done ? texts[done] : undefined;
	return text ? { kind: "ok", text } : undefined;
}
