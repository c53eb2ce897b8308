/** The console's first page: the search box and the size of each review queue. */
import type { SettlementState } from "../../routes/admin/settlement";
import { Layout, Notice, type PageNotice, SearchBox } from "../layout";
import type { ConsoleAdmin } from "../session";
import { SettlementPanel } from "./settlement-panel";

type Sizes = Record<"unmatched" | "held" | "conflicts" | "shortfalls" | "dead_letters", number>;

export function HomePage(props: {
	admin: ConsoleAdmin;
	sizes: Sizes;
	settlement: SettlementState;
	notice?: PageNotice;
}) {
	const queues: [string | null, string, number][] = [
		["/console/unmatched", "Unmatched deposits", props.sizes.unmatched],
		["/console/dead-letters", "Dead letters", props.sizes.dead_letters],
		["/console/held", "Held for review", props.sizes.held],
		["/console/conflicts", "Unresolved conflicts", props.sizes.conflicts],
		["/console/shortfalls", "Reversal shortfalls", props.sizes.shortfalls],
	];
	return (
		<Layout title="Find" admin={props.admin} current="/console">
			<h1>Find</h1>
			{props.notice ? <Notice kind={props.notice.kind}>{props.notice.text}</Notice> : null}
			<SearchBox />
			<SettlementPanel admin={props.admin} state={props.settlement} />
			<h2>Review queues</h2>
			<ul class="cards">
				{queues.map(([href, label, n]) => (
					<li>
						{href ? (
							<a href={href}>
								<span class="count">{n}</span>
								{label}
							</a>
						) : (
							<span class="card">
								<span class="count">{n}</span>
								{label}
							</span>
						)}
					</li>
				))}
			</ul>
		</Layout>
	);
}
