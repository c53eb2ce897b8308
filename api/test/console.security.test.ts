/**
 * The operators' console refuses what a stranger or another site can send: no session, no CSRF
 * token, another session's token, another origin, plain http to a remote host; it signs in only
 * through the login API's checks (TOTP, lockout) and sets a strict CSP and a safe cookie.
 */
import { describe, expect, it } from "vitest";
import { depositTxId } from "../../schema/tx-id";
import { count, createAdmin, seedDeposit, sql, totpCode } from "./support/accounts";
import { ConsoleBrowser, signedIn } from "./support/console";

const CSP =
	"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

describe("console headers", () => {
	it("sets a strict CSP, forbids framing and caching on every page", async () => {
		const { browser } = await signedIn();
		for (const path of [
			"/console/sign-in",
			"/console",
			"/console/unmatched",
			"/console/audit",
			"/console/dead-letters",
		]) {
			const res = await browser.request(path);
			expect(res.headers.get("content-security-policy"), path).toBe(CSP);
			expect(res.headers.get("x-frame-options"), path).toBe("SAMEORIGIN");
			expect(res.headers.get("cache-control"), path).toBe("no-store");
			expect(res.headers.get("referrer-policy"), path).toBe("no-referrer");
			const html = await res.text();
			expect(html, path).not.toMatch(/<script|\son[a-z]+=|style="/i);
		}
	});
});

describe("sign-in", () => {
	it("sets an HttpOnly, Secure, SameSite=Strict __Host- cookie over https", async () => {
		const admin = await createAdmin();
		const browser = new ConsoleBrowser();
		const res = await browser.signIn(admin);
		expect(res.status).toBe(303);
		const cookie = res.headers.getSetCookie().find((c) => c.startsWith("__Host-cricalgo-console="));
		expect(cookie).toBeDefined();
		expect(cookie).toMatch(/; HttpOnly/);
		expect(cookie).toMatch(/; Secure/);
		expect(cookie).toMatch(/; SameSite=Strict/);
		expect(cookie).toMatch(/; Path=\//);
		expect(cookie).not.toMatch(/Domain=/i);
		expect(await count("audit_logs", "admin_id = $1 AND action = 'admin.login'", [admin.id])).toBe(1);
	});

	it("refuses a wrong TOTP code, counts it against the account and locks it after five", async () => {
		const admin = await createAdmin();
		const browser = new ConsoleBrowser();
		const wrong = totpCode(admin.secret, Date.now() - 10 * 60_000);
		const first = await browser.signIn(admin, wrong);
		expect(first.status).toBe(401);
		expect(await first.text()).toContain("invalid username, password or TOTP code");
		expect(browser.cookies.has("__Host-cricalgo-console")).toBe(false);
		for (let i = 0; i < 3; i++) expect((await browser.signIn(admin, wrong)).status).toBe(401);
		const locked = await browser.signIn(admin, wrong);
		expect(locked.status).toBe(429);
		expect(locked.headers.get("retry-after")).toMatch(/^\d+$/);
		// Even the right code is refused while the name is locked.
		expect((await browser.signIn(admin)).status).toBe(429);
		expect(await count("refresh_tokens", "subject = $1", [admin.id])).toBe(0);
		expect(await count("audit_logs", "admin_id = $1 AND action = 'admin.login_failed'", [admin.id])).toBe(5);
	});

	it("refuses a sign-in post without the form's CSRF token and checks nothing", async () => {
		const admin = await createAdmin();
		const browser = new ConsoleBrowser();
		const res = await browser.request("/console/sign-in", {
			form: { username: admin.username, password: admin.password, totp: totpCode(admin.secret) },
		});
		expect(res.status).toBe(403);
		expect(await count("refresh_tokens", "subject = $1", [admin.id])).toBe(0);
		expect(await count("audit_logs", "admin_id = $1", [admin.id])).toBe(0);
	});

	it("refuses plain http from a host that is not this machine, and serves it on loopback", async () => {
		const remote = await new ConsoleBrowser("http://console.example").request("/console/sign-in");
		expect(remote.status).toBe(403);
		const local = new ConsoleBrowser("http://127.0.0.1:8787");
		const page = await local.request("/console/sign-in");
		expect(page.status).toBe(200);
		const cookie = page.headers.getSetCookie()[0]!;
		expect(cookie).toMatch(/^cricalgo-console-sign-in=/);
		expect(cookie).toMatch(/; HttpOnly/);
		expect(cookie).toMatch(/; SameSite=Strict/);
		expect(cookie).not.toMatch(/; Secure/);
	});
});

describe("actions", () => {
	async function unmatchedDeposit() {
		const [user] = await sql().query("INSERT INTO users (username) VALUES ($1) RETURNING id, username", [
			`console_${crypto.randomUUID().slice(0, 8)}`,
		]);
		const txId = await seedDeposit({ status: "unmatched", confirmations: 12 });
		return { txId, user: user as { id: string; username: string } };
	}
	const untouched = async (txId: string) => {
		const [row] = await sql().query("SELECT status::text AS status, user_id FROM deposits WHERE id = $1", [
			txId,
		]);
		expect(row).toEqual({ status: "unmatched", user_id: null });
		expect(await count("audit_logs", "details->>'tx_id' = $1", [txId])).toBe(0);
	};

	it("refuses a post without a session, and sends a page request to the sign-in", async () => {
		const { txId, user } = await unmatchedDeposit();
		const { browser } = await signedIn();
		const csrf = await browser.csrf("/console/unmatched");
		const stranger = new ConsoleBrowser();
		const res = await stranger.request(`/console/deposits/${txId}/assign`, {
			form: { csrf, player: user.username },
		});
		expect(res.status).toBe(401);
		await untouched(txId);
		const page = await stranger.request("/console/audit");
		expect(page.status).toBe(303);
		expect(page.headers.get("location")).toBe("/console/sign-in");
	});

	it("refuses a post without a CSRF token, with another session's token, or from another origin", async () => {
		const { txId, user } = await unmatchedDeposit();
		const { browser } = await signedIn();
		const other = await signedIn();
		const path = `/console/deposits/${txId}/assign`;
		expect((await browser.request(path, { form: { player: user.username } })).status).toBe(403);
		const foreign = await other.browser.csrf();
		expect((await browser.request(path, { form: { csrf: foreign, player: user.username } })).status).toBe(
			403,
		);
		const csrf = await browser.csrf();
		const crossSite = await browser.request(path, {
			form: { csrf, player: user.username },
			headers: { origin: "https://attacker.example", "sec-fetch-site": "cross-site" },
		});
		expect(crossSite.status).toBe(403);
		await untouched(txId);
	});

	it("signing out ends the session in the database: the old cookie no longer works", async () => {
		const { admin, browser } = await signedIn();
		const saved = new Map(browser.cookies);
		const csrf = await browser.csrf();
		const out = await browser.request("/console/sign-out", { form: { csrf } });
		expect(out.status).toBe(303);
		expect(browser.cookies.has("__Host-cricalgo-console")).toBe(false);
		expect(await count("refresh_tokens", "subject = $1 AND revoked_at IS NULL", [admin.id])).toBe(0);
		expect(await count("audit_logs", "admin_id = $1 AND action = 'admin.logout'", [admin.id])).toBe(1);
		browser.cookies = saved;
		const again = await browser.request("/console");
		expect(again.status).toBe(303);
		expect(again.headers.get("location")).toBe("/console/sign-in");
	});
});

describe("redriving a filtered set of dead letters", () => {
	it("redrives every letter the filter selects, through the admin API, and leaves the others", async () => {
		const { browser, admin } = await signedIn();
		const run = crypto.randomUUID().replaceAll("-", "");
		const hashes = [1, 2, 3, 4].map((n) => `0x${run}${String(n).padStart(32, "0")}`);
		const ids = await Promise.all(hashes.map((h) => depositTxId("bep20", h, 0)));
		const body = (n: number) => ({
			v: 1,
			tx_id: ids[n - 1],
			chain: "bep20",
			tx_hash: hashes[n - 1],
			log_index: 0,
			amount: "1.5",
			currency: "USDT",
			confirmations: 0,
			status: "pending",
			to_address: null,
			user_id: null,
			block_number: null,
			metadata: null,
			webhook_id: `msg_filtered_${run}_${n}`,
			received_at: new Date().toISOString(),
		});
		const letters = await sql().query(
			`INSERT INTO dead_letters (message_id, tx_id, source, reason, body, attempts) VALUES
				($5 || '-f1', NULL, 'queue_dlq', 'database unavailable after 10 attempts (' || $5 || ')', $1::jsonb, 10),
				($5 || '-f2', NULL, 'queue_dlq', 'Database UNAVAILABLE after 10 attempts (' || $5 || ')', $2::jsonb, 10),
				($5 || '-f3', NULL, 'consumer', 'database unavailable after 10 attempts (' || $5 || ')', $3::jsonb, 10),
				($5 || '-f4', NULL, 'queue_dlq', 'not a valid deposit message', $4::jsonb, 1)
			RETURNING id, message_id`,
			[
				JSON.stringify(body(1)),
				JSON.stringify(body(2)),
				JSON.stringify(body(3)),
				JSON.stringify(body(4)),
				`dl-${run}`,
			],
		);
		const csrf = await browser.csrf("/console/dead-letters");
		const res = await browser.request("/console/dead-letters/redrive", {
			form: { csrf, source: "queue_dlq", reason: `unavailable after 10 attempts (dl-${run})` },
		});
		expect(res.status).toBe(303);
		expect(res.headers.get("location")).toBe("/console/dead-letters?done=redriven&n=2");
		const redriven = await sql().query(
			"SELECT message_id FROM dead_letters WHERE redriven_at IS NOT NULL AND message_id LIKE $1 ORDER BY message_id",
			[`dl-${run}-%`],
		);
		expect(redriven.map((r) => r.message_id)).toEqual([`dl-${run}-f1`, `dl-${run}-f2`]);
		expect(await count("audit_logs", "admin_id = $1 AND action = 'dead_letter.redrive'", [admin.id])).toBe(2);
		expect(letters).toHaveLength(4);
		// Settlement takes the two redriven messages off the queue (and only those).
		const settled = async () =>
			(
				await sql().query("SELECT webhook_id FROM deposits WHERE webhook_id LIKE $1 ORDER BY webhook_id", [
					`msg_filtered_${run}_%`,
				])
			).map((r) => r.webhook_id);
		for (let i = 0; i < 100 && (await settled()).length < 2; i++)
			await new Promise((r) => setTimeout(r, 100));
		expect(await settled()).toEqual([`msg_filtered_${run}_1`, `msg_filtered_${run}_2`]);
	});
});
