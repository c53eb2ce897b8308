/**
 * The unmatched queue: deposits for no known player or address, each with a form that assigns
 * it to a player named by username, Telegram id or id.
 */
import { Csrf, DepositLink, type PageNotice, When } from "../layout";
import { QueueTable } from "../queue-table";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function UnmatchedPage(props: {
	admin: ConsoleAdmin;
	items: Row[];
	nextCursor: string | null;
	notice?: PageNotice;
}) {
	return (
		<QueueTable
			admin={props.admin}
			title="Unmatched deposits"
			current="/console/unmatched"
			notice={props.notice}
			caption="Deposits no player could be found for, newest first"
			columns={["tx_id", "Amount", "To address", "Confirmations", "First seen", "Assign to a player"]}
			items={props.items}
			empty="No unmatched deposit: the queue is clear."
			row={(d) => {
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
			}}
			below={
				props.nextCursor ? (
					<p>
						<a href={`/console/unmatched?cursor=${encodeURIComponent(props.nextCursor)}`}>Older deposits</a>
					</p>
				) : null
			}
		/>
	);
}
