/**
 * The console's page frame and the small pieces every page uses. Pages are server-rendered
 * Hono JSX: no script runs in the browser (the CSP forbids any), forms post to the Worker.
 *
 * @module
 */
import type { Child } from "hono/jsx";
import type { ConsoleAdmin } from "./session";

/** The console's pages, in the navigation's order. */
const NAV = [
	["/console", "Find"],
	["/console/unmatched", "Unmatched"],
	["/console/conflicts", "Conflicts"],
	["/console/held", "Held"],
	["/console/shortfalls", "Shortfalls"],
	["/console/dead-letters", "Dead letters"],
	["/console/audit", "Audit log"],
	["/console/watch", "Watch"],
] as const;

export function Layout(props: { title: string; admin?: ConsoleAdmin; current?: string; children: Child }) {
	return (
		<html lang="en">
			<head>
				<meta charset="utf-8" />
				<meta name="viewport" content="width=device-width, initial-scale=1" />
				<title>{`${props.title} · CricAlgo console`}</title>
				<link rel="stylesheet" href="/console/style.css" />
				<link rel="icon" href="/console/icon.svg" type="image/svg+xml" />
			</head>
			<body>
				<a class="skip" href="#main">
					Skip to content
				</a>
				{props.admin ? (
					<header>
						<span class="brand">CricAlgo console</span>
						<nav aria-label="Console">
							<ul>
								{NAV.map(([href, label]) => (
									<li>
										<a href={href} aria-current={props.current === href ? "page" : undefined}>
											{label}
										</a>
									</li>
								))}
							</ul>
						</nav>
						<form method="post" action="/console/sign-out">
							<span>{props.admin.username}</span>
							<Csrf token={props.admin.csrf} />
							<button type="submit">Sign out</button>
						</form>
					</header>
				) : null}
				<main id="main">{props.children}</main>
			</body>
		</html>
	);
}

/** The hidden CSRF field of a state-changing form. */
export function Csrf(props: { token: string }) {
	return <input type="hidden" name="csrf" value={props.token} />;
}

/** The outcome of the last action, as a page is given it to show. */
export type PageNotice = { kind: "ok" | "error"; text: string };

/** The outcome of the last action, announced to screen readers. */
export function Notice(props: { kind: "ok" | "error"; children: Child }) {
	return (
		<p class={`notice ${props.kind}`} role={props.kind === "error" ? "alert" : "status"}>
			{props.children}
		</p>
	);
}

export function Status(props: { status: string }) {
	return <span class={`status ${props.status}`}>{props.status}</span>;
}

/** A timestamp as UTC text, or a dash. */
export function When(props: { at: string | null | undefined }) {
	return props.at ? (
		<time datetime={props.at}>{props.at.replace("T", " ").replace(/\.\d+Z$/, "Z")}</time>
	) : (
		<>–</>
	);
}

/** A link to a deposit's page. */
export function DepositLink(props: { id: string }) {
	return (
		<a class="mono" href={`/console/deposits/${props.id}`}>
			{props.id}
		</a>
	);
}

/** The search box; on every page that finds things. */
export function SearchBox(props: { q?: string }) {
	return (
		<search>
			<form class="search" method="get" action="/console/search">
				<div class="field">
					<label for="q">Find a deposit or a player</label>
					<input
						id="q"
						name="q"
						type="search"
						value={props.q ?? ""}
						required
						maxlength={256}
						placeholder="tx hash, tx_id, webhook id, username, Telegram id, player id or address"
					/>
				</div>
				<button type="submit">Find</button>
			</form>
		</search>
	);
}
