/**
 * The conflicts queue: deliveries that disagreed with a known deposit (another amount or
 * currency for the same transfer), beside what the deposit holds, each with a form that marks
 * it reviewed with a note. Resolving moves nothing in the ledger.
 */
import { Csrf, DepositLink, Layout, Notice, When } from "../layout";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function ConflictsPage(props: {
	admin: ConsoleAdmin;
	items: Row[];
	notice?: { kind: "ok" | "error"; text: string };
}) {
	return (
		<Layout title="Conflicts" admin={props.admin} current="/console/conflicts">
			<h1>Conflicts</h1>
			{props.notice ? <Notice kind={props.notice.kind}>{props.notice.text}</Notice> : null}
			{props.items.length ? (
				<table>
					<caption>Deliveries that disagree with their deposit, newest first</caption>
					<thead>
						<tr>
							<th scope="col">Deposit</th>
							<th scope="col">The deposit holds</th>
							<th scope="col">The delivery said</th>
							<th scope="col">Webhook id</th>
							<th scope="col">Received</th>
							<th scope="col">Resolve</th>
						</tr>
					</thead>
					<tbody>
						{props.items.map((item) => {
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
						})}
					</tbody>
				</table>
			) : (
				<p role="status">No unresolved conflict: the queue is clear.</p>
			)}
		</Layout>
	);
}
