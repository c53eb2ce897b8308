/**
 * A browser's view of the operators' console, inside workerd: cookies kept between requests,
 * forms read from the pages and posted back, redirects not followed (tests assert them).
 *
 * @module
 */
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import { app } from "../../src/app";
import type { OptionalSecrets } from "../../src/env";
import { createAdmin, freshIp, type TestAdmin, totpCode } from "./accounts";

export class ConsoleBrowser {
	cookies = new Map<string, string>();
	readonly ip = freshIp();
	constructor(
		readonly origin = "https://edge.test",
		/** Environment overrides: requests then go to the app with `{...env, ...envOverrides}`. */
		readonly envOverrides?: Partial<Env & OptionalSecrets>,
	) {}

	async request(
		path: string,
		init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {},
	) {
		const headers: Record<string, string> = { "cf-connecting-ip": this.ip, ...init.headers };
		if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
		let body: string | undefined;
		if (init.form) {
			headers["content-type"] = "application/x-www-form-urlencoded";
			body = new URLSearchParams(init.form).toString();
		}
		const request = new Request(`${this.origin}${path}`, {
			method: init.method ?? (body ? "POST" : "GET"),
			headers,
			body,
			redirect: "manual",
		});
		const res = this.envOverrides
			? await app.request(request, undefined, { ...env, ...this.envOverrides })
			: await exports.default.fetch(request);
		for (const line of res.headers.getSetCookie()) {
			const [pair] = line.split(";");
			const [name, value] = pair!.split("=") as [string, string];
			if (/max-age=0/i.test(line) || value === "") this.cookies.delete(name);
			else this.cookies.set(name, value);
		}
		return res;
	}

	/** The CSRF token of the forms of the page at `path`. */
	async csrf(path = "/console"): Promise<string> {
		const html = await (await this.request(path)).text();
		const token = /name="csrf" value="([^"]+)"/.exec(html)?.[1];
		expect(token, `no CSRF field on ${path}`).toBeTruthy();
		return token!;
	}

	/** Signs in as `admin` with the authenticator's current code; returns the answer. */
	async signIn(admin: TestAdmin, totp = totpCode(admin.secret)) {
		const csrf = await this.csrf("/console/sign-in");
		return this.request("/console/sign-in", {
			form: { csrf, username: admin.username, password: admin.password, totp },
		});
	}
}

/** A new admin and a browser signed in as them. */
export async function signedIn(): Promise<{ admin: TestAdmin; browser: ConsoleBrowser }> {
	const admin = await createAdmin();
	const browser = new ConsoleBrowser();
	const res = await browser.signIn(admin);
	expect(res.status, await res.clone().text()).toBe(303);
	expect(res.headers.get("location")).toBe("/console");
	return { admin, browser };
}

/** The text of the table row of `html` whose header cell starts with `name`, cells separated by " | ". */
export function tableRow(html: string, name: string): string {
	const tr = [...html.matchAll(/<tr>(.*?)<\/tr>/gs)].map((m) => m[1]!).find((r) => r.includes(`>${name}`));
	return (tr ?? "")
		.split(/<\/t[hd]>/)
		.map((cell) => cell.replace(/<[^>]+>/g, "").trim())
		.filter(Boolean)
		.join(" | ");
}

/** The page at `path` as `browser` sees it: answered 200, its HTML. */
export async function pageHtml(browser: ConsoleBrowser, path: string): Promise<string> {
	const res = await browser.request(path);
	expect(res.status).toBe(200);
	return res.text();
}
