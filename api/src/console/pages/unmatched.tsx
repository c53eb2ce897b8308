/**
 * The unmatched queue: deposits for no known player or address, each with a form that assigns
 * it to a player named by username, Telegram id or id.
 */
import { Csrf, DepositLink, Layout, Notice, When } from "../layout";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function UnmatchedPage(props: {
	admin: ConsoleAdmin;
	items: Row[];
	nextCursor: string | null;
	notice?: { kind: "ok" | "error"; text: string };
}) {
	return (
		<Layout title="Unmatched deposits" admin={props.admin} current="/console/unmatched">
			<h1>Unmatched deposits</h1>
			{props.notice ? <Notice kind={props.notice.kind}>{props.notice.text}</Notice> : null}
			{props.items.length ? (
				<table>
					<caption>Deposits no player could be found for, newest first</caption>
					<thead>
						<tr>
							<th scope="col">tx_id</th>
							<th scope="col">Amount</th>
							<th scope="col">To address</th>
							<th scope="col">Confirmations</th>
							<th scope="col">First seen</th>
							<th scope="col">Assign to a player</th>
						</tr>
					</thead>
					<tbody>
						{props.items.map((d) => {
							const id = String(d.tx_id);
							return (
								<tr id={`deposit-${id}`}>
									<td>
										<DepositLink id={id} />
									</td>
									<td class="num">
										{String(d.amount)} {String(d.currency)}
									</td>
									<td class="mono">{String(d.to_address ?? "–")}</td>
									<td>
										{String(d.confirmations ?? "–")} of {String(d.required_confirmations)}
									</td>
									<td>
										<When at={d.first_seen_at as string} />
									</td>
									<td>
										<form class="inline" method="post" action={`/console/deposits/${id}/assign`}>
											<Csrf token={props.admin.csrf} />
											<div class="field">
												<label for={`player-${id}`}>Player for {id.slice(0, 8)}</label>
												<input
													id={`player-${id}`}
													name="player"
													required
													maxlength={64}
													placeholder="username, Telegram id or id"
												/>
											</div>
											<button type="submit" aria-label={`Assign deposit ${id}`}>
												Assign
											</button>
										</form>
									</td>
								</tr>
							);
						})}
					</tbody>
				</table>
			) : (
				<p role="status">No unmatched deposit: the queue is clear.</p>
			)}
			{props.nextCursor ? (
				<p>
					<a href={`/console/unmatched?cursor=${encodeURIComponent(props.nextCursor)}`}>Older deposits</a>
				</p>
			) : null}
		</Layout>
	);
}
