/**
 * The dead letters not yet redriven, filtered by source and reason, each with a redrive button,
 * and one form that redrives every letter the filter shows.
 */
import { Csrf, DepositLink, type PageNotice, When } from "../layout";
import { QueueTable } from "../queue-table";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export interface LetterFilter {
	source: string;
	reason: string;
}

export function DeadLettersPage(props: {
	admin: ConsoleAdmin;
	items: Row[];
	filter: LetterFilter;
	notice?: PageNotice;
}) {
	const { filter } = props;
	return (
		<QueueTable
			admin={props.admin}
			title="Dead letters"
			current="/console/dead-letters"
			notice={props.notice}
			caption="Messages settlement gave up on, newest first"
			columns={["Stored", "Deposit", "Source", "Reason", "Attempts", "Action"]}
			items={props.items}
			empty={<>No dead letter waits{filter.source || filter.reason ? " that matches the filter" : ""}.</>}
			above={
				<form class="inline" method="get" action="/console/dead-letters" aria-label="Filter dead letters">
					<div class="field">
						<label for="source">Source</label>
						<select id="source" name="source">
							{[
								["", "any"],
								["consumer", "consumer"],
								["queue_dlq", "queue_dlq"],
							].map(([value, label]) => (
								<option value={value} selected={filter.source === value}>
									{label}
								</option>
							))}
						</select>
					</div>
					<div class="field">
						<label for="reason">Reason contains</label>
						<input id="reason" name="reason" value={filter.reason} maxlength={200} />
					</div>
					<button type="submit">Filter</button>
				</form>
			}
			lead={
				<form class="inline" method="post" action="/console/dead-letters/redrive">
					<Csrf token={props.admin.csrf} />
					<input type="hidden" name="source" value={filter.source} />
					<input type="hidden" name="reason" value={filter.reason} />
					<p>
						<button type="submit">Redrive all {props.items.length} shown</button>
					</p>
				</form>
			}
			row={(l) => (
				<tr>
					<td>
						<When at={l.created_at as string} />
					</td>
					<td>{l.tx_id ? <DepositLink id={String(l.tx_id)} /> : "–"}</td>
					<td>{String(l.source)}</td>
					<td>{String(l.reason)}</td>
					<td>{String(l.attempts)}</td>
					<td>
						<form method="post" action={`/console/dead-letters/${l.id}/redrive`}>
							<Csrf token={props.admin.csrf} />
							<button type="submit" aria-label={`Redrive dead letter ${l.id}`}>
								Redrive
							</button>
						</form>
					</td>
				</tr>
			)}
		/>
	);
}
