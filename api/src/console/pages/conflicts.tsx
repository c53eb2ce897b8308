/**
 * The conflicts queue: deliveries that disagreed with a known deposit (another amount or
 * currency for the same transfer), beside what the deposit holds, each with a form that marks
 * it reviewed with a note. Resolving moves nothing in the ledger.
 */
import { Csrf, DepositLink, type PageNotice, When } from "../layout";
import { QueueTable } from "../queue-table";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function ConflictsPage(props: { admin: ConsoleAdmin; items: Row[]; notice?: PageNotice }) {
	return (
		<QueueTable
			admin={props.admin}
			title="Conflicts"
			current="/console/conflicts"
			notice={props.notice}
			caption="Deliveries that disagree with their deposit, newest first"
			columns={["Deposit", "The deposit holds", "The delivery said", "Webhook id", "Received", "Resolve"]}
			items={props.items}
			empty="No unresolved conflict: the queue is clear."
			row={(item) => {
				const id = String(item.id);
				const d = (item.deposit ?? {}) as Row;
				return (
					<tr>
						<td>
							<DepositLink id={String(item.tx_id)} />
						</td>
						<td class="num">
							{String(d.amount)} {String(d.currency)} ({String(d.status)})
						</td>
						<td class="num">
							{String(item.amount)} {String(item.currency)}
						</td>
						<td class="mono">{String(item.webhook_id ?? "–")}</td>
						<td>
							<When at={item.received_at as string} />
						</td>
						<td>
							<form class="inline" method="post" action={`/console/conflicts/${id}/resolve`}>
								<Csrf token={props.admin.csrf} />
								<div class="field">
									<label for={`note-${id}`}>Note for {id.slice(0, 8)}</label>
									<input id={`note-${id}`} name="note" required maxlength={1000} />
								</div>
								<button type="submit" aria-label={`Resolve conflict ${id}`}>
									Resolve
								</button>
							</form>
						</td>
					</tr>
				);
			}}
		/>
	);
}
