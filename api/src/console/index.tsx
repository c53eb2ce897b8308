/**
 * The operators' console at `/console`: server-rendered pages (Hono JSX) for admins, to find any
 * deposit and read its whole story, and to clear the review queues. No client build and no
 * script in the browser: the pages are a few kilobytes of HTML and one stylesheet, rendered by
 * the edge Worker that serves the API, so the console adds no deployable of its own and the
 * Worker's bundle grows by the pages alone.
 *
 * Security: sign-in through the login API (password and TOTP, its rate limit and lockout), a
 * session cookie (session.ts), a CSRF token on every form that changes something and a check of
 * `Sec-Fetch-Site`, a CSP that admits nothing but the console's own stylesheet and forms, no caching.
 * Every action goes through the admin API's own routes (admin-api.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { secureHeaders } from "hono/secure-headers";
import * as z from "../../../schema/zod";
import { ApiError } from "../../../shared/http/errors";
import { limitBody } from "../../../shared/http/request-input";
import { database } from "../lib/database";
import { settlementState } from "../routes/admin/settlement";
import { adminApi, apiLogin, refusalText } from "./admin-api";
import type { PageNotice } from "./layout";
import { AuditPage } from "./pages/audit";
import { ConflictsPage } from "./pages/conflicts";
import { DeadLettersPage, type LetterFilter } from "./pages/dead-letters";
import { DepositPage } from "./pages/deposit";
import { HeldPage } from "./pages/held";
import { HomePage } from "./pages/home";
import { PlayerPage } from "./pages/player";
import { SearchPage } from "./pages/search";
import { SignInPage } from "./pages/sign-in";
import { UnmatchedPage } from "./pages/unmatched";
import { auditLog, depositStory, find, lookUpPlayers, player, queueSizes } from "./queries";
import { apiRefusal, refusal } from "./refusal";
import {
	type ConsoleEnv,
	csrfValid,
	currentAdmin,
	endSession,
	insecureTransport,
	signInCsrf,
	signInCsrfValid,
	startSession,
} from "./session";
import { settlementConsole, settlementNotice } from "./settlement-routes";
import { shortfallsConsole } from "./shortfalls-routes";
import { ICON, STYLESHEET } from "./style";
import { watchRoutes } from "./watch";

const uuid = z.uuid();

type Ctx = import("hono").Context<ConsoleEnv>;

export const operatorsConsole = new Hono<ConsoleEnv>();

operatorsConsole.use(
	secureHeaders({
		contentSecurityPolicy: {
			defaultSrc: ["'none'"],
			styleSrc: ["'self'"],
			imgSrc: ["'self'"],
			formAction: ["'self'"],
			frameAncestors: ["'none'"],
			baseUri: ["'none'"],
		},
		referrerPolicy: "no-referrer",
	}),
	async (c, next) => {
		// The console's cookie must not cross a network in clear.
		if (insecureTransport(c)) {
			return c.text("The console is served over https only.", 403);
		}
		await next();
		c.header("Cache-Control", "no-store");
	},
	limitBody(),
);

operatorsConsole.onError((error, c) => {
	if (error instanceof ApiError) {
		for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
		return refusal(c, error.status as 503, "The console could not do that", error.message);
	}
	console.error("console error:", error);
	return refusal(
		c,
		503,
		"The console could not do that",
		"something failed on the server; retry in a moment",
	);
});

operatorsConsole.get("/style.css", (c) => {
	c.header("Content-Type", "text/css; charset=utf-8");
	return c.body(STYLESHEET);
});

operatorsConsole.get("/icon.svg", (c) => {
	c.header("Content-Type", "image/svg+xml");
	return c.body(ICON);
});

operatorsConsole.get("/sign-in", async (c) => {
	if (await currentAdmin(c)) return c.redirect("/console", 303);
	return c.html(<SignInPage csrf={await signInCsrf(c)} />);
});

operatorsConsole.post("/sign-in", async (c) => {
	const form = await c.req.parseBody();
	const username = typeof form.username === "string" ? form.username : "";
	if (!(await signInCsrfValid(c, form.csrf))) {
		c.status(403);
		return c.html(
			<SignInPage
				csrf={await signInCsrf(c)}
				username={username}
				error="This form had expired or did not come from this console; sign in again."
			/>,
		);
	}
	const answer = await apiLogin(c.env, c.req.header("cf-connecting-ip") ?? "unknown", {
		username,
		password: typeof form.password === "string" ? form.password : "",
		totp: typeof form.totp === "string" ? form.totp.trim() : "",
	});
	if (answer.ok && answer.body.role === "admin") {
		startSession(c, answer.body.refresh_token);
		return c.redirect("/console", 303);
	}
	const retryAfter = answer.headers.get("Retry-After");
	if (retryAfter) c.header("Retry-After", retryAfter);
	c.status((answer.ok ? 401 : answer.status) as 401);
	const message = answer.ok
		? "The console is for admins."
		: answer.status === 422
			? "Give a username, a password and the six-digit code of your authenticator."
			: (answer.body.error?.message ?? "sign-in failed");
	return c.html(<SignInPage csrf={await signInCsrf(c)} username={username} error={message} />);
});

// Everything below needs a live session; a post also needs the session's CSRF token.
operatorsConsole.use(async (c, next) => {
	const admin = await currentAdmin(c);
	if (!admin) {
		if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect("/console/sign-in", 303);
		return refusal(c, 401, "Signed out", "Your session has ended or never began: sign in again.");
	}
	c.set("admin", admin);
	if (c.req.method !== "GET" && c.req.method !== "HEAD") {
		// Browsers say where a request comes from (Fetch Metadata); the request URL cannot be
		// compared with Origin, as a local proxy (wrangler dev) rewrites it.
		const site = c.req.header("sec-fetch-site");
		if (site && site !== "same-origin" && site !== "none") {
			return refusal(c, 403, "Refused", "This action came from another site and was not carried out.");
		}
		const form = await c.req.parseBody();
		if (!(await csrfValid(c.env, admin, form.csrf))) {
			return refusal(
				c,
				403,
				"Refused",
				"This form had expired or did not come from this console; nothing was done.",
			);
		}
	}
	await next();
});

operatorsConsole.route("/watch", watchRoutes);

operatorsConsole.post("/sign-out", async (c) => {
	await endSession(c);
	return c.redirect("/console/sign-in", 303);
});

operatorsConsole.get("/", async (c) => {
	const db = database(c.env);
	const [sizes, settlement] = await Promise.all([queueSizes(db), settlementState(db, c.var.admin.id)]);
	return c.html(
		<HomePage
			admin={c.var.admin}
			sizes={sizes}
			settlement={settlement}
			notice={settlementNotice(c.req.query("done"))}
		/>,
	);
});
operatorsConsole.route("/", settlementConsole);
operatorsConsole.route("/", shortfallsConsole);

operatorsConsole.get("/search", async (c) => {
	const q = (c.req.query("q") ?? "").trim().slice(0, 256);
	if (!q) return c.redirect("/console", 303);
	const found = await find(database(c.env), q);
	// One deposit and nobody else: its page is what the operator wants.
	if (found.deposits.length === 1 && !found.players.length) {
		return c.redirect(`/console/deposits/${found.deposits[0]!.id}`, 303);
	}
	return c.html(<SearchPage admin={c.var.admin} q={q} deposits={found.deposits} players={found.players} />);
});

operatorsConsole.get("/deposits/:tx_id", async (c) => {
	const txId = c.req.param("tx_id").toLowerCase();
	if (!uuid.safeParse(txId).success) return refusal(c, 404, "No such deposit", "A tx_id is a UUID.");
	const story = await depositStory(database(c.env), txId);
	if (!story) return refusal(c, 404, "No such deposit", `Nothing is known of the deposit ${txId}.`);
	const notice =
		c.req.query("done") === "assigned"
			? "Assigned. Settlement credits the deposit to the player in a few seconds, once its confirmations are enough; reload to see it."
			: undefined;
	return c.html(<DepositPage admin={c.var.admin} txId={txId} story={story} notice={notice} />);
});

operatorsConsole.get("/players/:id", async (c) => {
	const id = c.req.param("id").toLowerCase();
	const found = uuid.safeParse(id).success ? await player(database(c.env), id) : null;
	if (!found) return refusal(c, 404, "No such player", `No player has the id ${id}.`);
	return c.html(<PlayerPage admin={c.var.admin} player={found} />);
});

async function unmatchedPage(c: Ctx, notice?: PageNotice) {
	const cursor = c.req.query("cursor");
	const query = new URLSearchParams({ limit: "100", ...(cursor ? { cursor } : {}) });
	const answer = await adminApi<{ items: Record<string, unknown>[]; next_cursor: string | null }>(
		c.env,
		c.var.admin.id,
		"GET",
		`/deposits/unmatched?${query}`,
	);
	if (!answer.ok) throw apiRefusal(answer);
	return c.html(
		<UnmatchedPage
			admin={c.var.admin}
			items={answer.body.items}
			nextCursor={answer.body.next_cursor}
			notice={notice}
		/>,
	);
}

operatorsConsole.get("/unmatched", (c) => unmatchedPage(c));

operatorsConsole.post("/deposits/:tx_id/assign", async (c) => {
	const txId = c.req.param("tx_id").toLowerCase();
	if (!uuid.safeParse(txId).success) return refusal(c, 404, "No such deposit", "A tx_id is a UUID.");
	const form = await c.req.parseBody();
	const named = typeof form.player === "string" ? form.player.trim() : "";
	const fail = (status: 404 | 409 | 422 | 503, text: string) => {
		c.status(status);
		return unmatchedPage(c, { kind: "error", text });
	};
	if (!named) return fail(422, "Name the player: a username, a Telegram id or a player id.");
	const players = await lookUpPlayers(database(c.env), named);
	if (!players.length)
		return fail(422, `No player is called or has the id “${named}”; nothing was assigned.`);
	if (players.length > 1) {
		return fail(
			422,
			`“${named}” names ${players.length} players (${players.map((p) => p.username).join(", ")}); give the player's id.`,
		);
	}
	const answer = await adminApi(c.env, c.var.admin.id, "POST", `/deposits/${txId}/assign`, {
		user_id: players[0]!.id,
	});
	if (!answer.ok) {
		return fail(answer.status as 409, `Not assigned: ${refusalText(answer)}`);
	}
	return c.redirect(`/console/deposits/${txId}?done=assigned`, 303);
});

async function conflictsPage(c: Ctx, notice?: PageNotice) {
	const answer = await adminApi<{ items: Record<string, unknown>[] }>(
		c.env,
		c.var.admin.id,
		"GET",
		"/deposits/conflicts?limit=100",
	);
	if (!answer.ok) throw apiRefusal(answer);
	return c.html(<ConflictsPage admin={c.var.admin} items={answer.body.items} notice={notice} />);
}

operatorsConsole.get("/conflicts", (c) =>
	conflictsPage(
		c,
		c.req.query("done") === "resolved"
			? { kind: "ok", text: "Resolved: the note is in the audit log." }
			: undefined,
	),
);

operatorsConsole.post("/conflicts/:id/resolve", async (c) => {
	const id = c.req.param("id").toLowerCase();
	if (!uuid.safeParse(id).success) return refusal(c, 404, "No such conflict", "A conflict's id is a UUID.");
	const form = await c.req.parseBody();
	const note = typeof form.note === "string" ? form.note : "";
	const answer = await adminApi(c.env, c.var.admin.id, "POST", `/deposits/conflicts/${id}/resolve`, { note });
	if (!answer.ok) {
		c.status(answer.status as 409);
		return conflictsPage(c, {
			kind: "error",
			text: `Not resolved: ${refusalText(answer)}`,
		});
	}
	return c.redirect("/console/conflicts?done=resolved", 303);
});

async function heldPage(c: Ctx, notice?: PageNotice) {
	const answer = await adminApi<{ items: Record<string, unknown>[] }>(
		c.env,
		c.var.admin.id,
		"GET",
		"/deposits?status=held&limit=100",
	);
	if (!answer.ok) throw apiRefusal(answer);
	return c.html(<HeldPage admin={c.var.admin} items={answer.body.items} notice={notice} />);
}

const HELD_DONE: Record<string, string> = {
	rejected: "Rejected: the deposit is never credited. The decision is in the audit log.",
	released:
		"Released to settlement: it is credited to its owner once, when the chain agrees (or parked as unmatched when it has none). The decision is in the audit log.",
};

operatorsConsole.get("/held", (c) =>
	heldPage(
		c,
		HELD_DONE[c.req.query("done") ?? ""]
			? { kind: "ok", text: HELD_DONE[c.req.query("done") ?? ""]! }
			: undefined,
	),
);

operatorsConsole.post("/deposits/:tx_id/review", async (c) => {
	const txId = c.req.param("tx_id").toLowerCase();
	if (!uuid.safeParse(txId).success) return refusal(c, 404, "No such deposit", "A tx_id is a UUID.");
	const form = await c.req.parseBody();
	const fail = (status: number, text: string) => {
		c.status(status as 409);
		return heldPage(c, { kind: "error", text: `Not reviewed: ${text}` });
	};
	// A release to an owner credits them: the reviewer ticks that they confirm that very player.
	const owner = typeof form.user_id === "string" && form.user_id ? form.user_id : undefined;
	if (form.decision === "release" && owner && form.confirm_owner !== owner) {
		return fail(422, "tick the box that confirms the player the release credits.");
	}
	const answer = await adminApi<{ outcome: string; status: string }>(
		c.env,
		c.var.admin.id,
		"POST",
		`/deposits/${txId}/review`,
		{
			decision: form.decision,
			reason: typeof form.reason === "string" ? form.reason : "",
			...(form.decision === "release" && owner ? { user_id: owner } : {}),
		},
	);
	if (!answer.ok) {
		const retryAfter = answer.headers.get("Retry-After");
		if (retryAfter) c.header("Retry-After", retryAfter);
		return fail(answer.status, refusalText(answer));
	}
	return c.redirect(
		`/console/held?done=${answer.body.outcome === "rejected" ? "rejected" : "released"}`,
		303,
	);
});

type Letter = Record<string, unknown> & { id: string; source: string; reason: string };

function letterFilter(values: Record<string, unknown>): LetterFilter {
	const source =
		typeof values.source === "string" && ["consumer", "queue_dlq"].includes(values.source)
			? values.source
			: "";
	const reason = typeof values.reason === "string" ? values.reason.trim().slice(0, 200) : "";
	return { source, reason };
}

/** The letters the filter selects among the (at most) hundred oldest waiting ones the API lists. */
async function filteredLetters(c: Ctx, filter: LetterFilter): Promise<Letter[]> {
	const answer = await adminApi<{ items: Letter[] }>(c.env, c.var.admin.id, "GET", "/dead-letters?limit=100");
	if (!answer.ok) throw apiRefusal(answer);
	const reason = filter.reason.toLowerCase();
	return answer.body.items.filter(
		(l) =>
			(!filter.source || l.source === filter.source) && (!reason || l.reason.toLowerCase().includes(reason)),
	);
}

async function deadLettersPage(c: Ctx, filter: LetterFilter, notice?: PageNotice) {
	const items = await filteredLetters(c, filter);
	return c.html(<DeadLettersPage admin={c.var.admin} items={items} filter={filter} notice={notice} />);
}

operatorsConsole.get("/dead-letters", (c) => {
	const done = c.req.query("done");
	const notice =
		done === "redriven"
			? { kind: "ok" as const, text: `Redriven: ${Number(c.req.query("n") ?? 0)} sent back to settlement.` }
			: undefined;
	return deadLettersPage(c, letterFilter(c.req.query()), notice);
});

operatorsConsole.post("/dead-letters/:id/redrive", async (c) => {
	const id = c.req.param("id").toLowerCase();
	if (!uuid.safeParse(id).success)
		return refusal(c, 404, "No such dead letter", "A dead letter's id is a UUID.");
	const answer = await adminApi(c.env, c.var.admin.id, "POST", `/dead-letters/${id}/redrive`);
	if (!answer.ok) {
		c.status(answer.status as 409);
		return deadLettersPage(c, letterFilter({}), {
			kind: "error",
			text: `Not redriven: ${refusalText(answer)}`,
		});
	}
	return c.redirect("/console/dead-letters?done=redriven&n=1", 303);
});

operatorsConsole.post("/dead-letters/redrive", async (c) => {
	const filter = letterFilter(await c.req.parseBody());
	const letters = await filteredLetters(c, filter);
	const failed: string[] = [];
	for (const letter of letters) {
		const answer = await adminApi(c.env, c.var.admin.id, "POST", `/dead-letters/${letter.id}/redrive`);
		if (!answer.ok) failed.push(`${letter.id}: ${refusalText(answer, String(answer.status))}`);
	}
	if (failed.length) {
		c.status(failed.length === letters.length ? 409 : 200);
		return deadLettersPage(c, filter, {
			kind: "error",
			text: `${letters.length - failed.length} redriven, ${failed.length} not: ${failed.join("; ")}`,
		});
	}
	return c.redirect(`/console/dead-letters?done=redriven&n=${letters.length}`, 303);
});

operatorsConsole.get("/audit", async (c) => {
	const action = (c.req.query("action") ?? "").trim().slice(0, 128);
	const before = c.req.query("before") ?? "";
	const validBefore = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/.test(before) ? before : null;
	const rows = await auditLog(database(c.env), action || null, validBefore);
	return c.html(<AuditPage admin={c.var.admin} rows={rows} action={action} />);
});
