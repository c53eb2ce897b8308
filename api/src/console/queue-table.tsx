/**
 * The frame every review queue of the console shares (unmatched, conflicts, held, shortfalls,
 * dead letters): the page, its heading, the last action's notice, then the queue's table with
 * one row an item, or a status line saying the queue is clear. Each page gives only its own
 * columns, rows and forms.
 *
 * @module
 */
import type { Child } from "hono/jsx";
import { Layout, Notice, type PageNotice } from "./layout";
import type { ConsoleAdmin } from "./session";

/**
 * @example
 * <QueueTable admin={admin} title="Conflicts" current="/console/conflicts" caption="…"
 *   columns={["Deposit", "Resolve"]} items={items} row={(item) => <tr>…</tr>}
 *   empty="No unresolved conflict: the queue is clear." />
 */
export function QueueTable<T>(props: {
	admin: ConsoleAdmin;
	/** The page's title; also its heading unless `heading` says otherwise. */
	title: string;
	heading?: string;
	/** The navigation entry this page is. */
	current: string;
	notice?: PageNotice | undefined;
	caption: string;
	columns: readonly string[];
	items: T[];
	/** One `<tr>` for an item. */
	row: (item: T) => Child;
	/** What the status line says when the queue is empty. */
	empty: Child;
	/** Shown under the notice whether or not the queue is empty (a filter, say). */
	above?: Child;
	/** Shown just before the table, only when it has rows (an action on all of them, say). */
	lead?: Child;
	/** Shown after the table or the status line (a link to the next page, say). */
	below?: Child;
}) {
	return (
		<Layout title={props.title} admin={props.admin} current={props.current}>
			<h1>{props.heading ?? props.title}</h1>
			{props.notice ? <Notice kind={props.notice.kind}>{props.notice.text}</Notice> : null}
			{props.above}
			{props.items.length ? (
				<>
					{props.lead}
					<table>
						<caption>{props.caption}</caption>
						<thead>
							<tr>
								{props.columns.map((column) => (
									<th scope="col">{column}</th>
								))}
							</tr>
						</thead>
						<tbody>{props.items.map((item) => props.row(item))}</tbody>
					</table>
				</>
			) : (
				<p role="status">{props.empty}</p>
			)}
			{props.below}
		</Layout>
	);
}
