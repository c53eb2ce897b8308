/**
 * The shortfalls queue: reversals a wallet could not cover in full, whose players are frozen.
 * Each row has a form that resolves the shortfall with a note (what was done about the money)
 * and, when it was the player's last open one, sets the player back to ACTIVE. The ledger does
 * not move.
 */
import { Csrf, DepositLink, type PageNotice, Status, When } from "../layout";
import { QueueTable } from "../queue-table";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function ShortfallsPage(props: { admin: ConsoleAdmin; items: Row[]; notice?: PageNotice }) {
	return (
		<QueueTable
			admin={props.admin}
			title="Shortfalls"
			heading="Reversal shortfalls"
			current="/console/shortfalls"
			notice={props.notice}
			caption="Reversals the wallet could not cover, oldest first"
			columns={["Deposit", "Player", "Short by", "Recorded", "Resolve"]}
			items={props.items}
			empty="No open shortfall: the queue is clear."
			row={(s) => {
				const id = String(s.id);
				const others = Number(s.open_for_player ?? 1) - 1;
				return (
					<tr>
						<td>
							<DepositLink id={String(s.tx_id)} />
							<br />
							{String(s.deposit_amount ?? "–")} {String(s.currency)} on {String(s.chain ?? "–")}
						</td>
						<td>
							{s.user_id ? (
								<a href={`/console/players/${String(s.user_id)}`}>{String(s.username ?? s.user_id)}</a>
							) : (
								"–"
							)}{" "}
							{s.user_status ? <Status status={String(s.user_status).toLowerCase()} /> : null}
							{others > 0 ? <p>{`${others} other open shortfall${others > 1 ? "s" : ""}`}</p> : null}
						</td>
						<td class="num">
							{String(s.shortfall)} {String(s.currency)}
						</td>
						<td>
							<When at={s.created_at as string} />
						</td>
						<td>
							<form class="inline" method="post" action={`/console/shortfalls/${id}/resolve`}>
								<Csrf token={props.admin.csrf} />
								<div class="field">
									<label for={`note-${id}`}>What was done, for {id.slice(0, 8)}</label>
									<input id={`note-${id}`} name="note" required minlength={10} maxlength={1000} />
								</div>
								<div class="field">
									<label>
										<input type="checkbox" name="unfreeze" value="yes" checked /> Unfreeze the player if no
										other shortfall of theirs is open (only if a shortfall froze them)
									</label>
								</div>
								<button type="submit" aria-label={`Resolve shortfall ${id}`}>
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
