/**
 * The held queue: deposits kept for an operator's review (why, in `hold_reason`), each with two
 * forms, both asking the reason the review API requires: release to settlement (to the owner
 * fixed on the deposit, whom the reviewer confirms; without one, to the unmatched queue), and
 * reject (final, never credited). The console route and then the review API check it all again.
 */
import { Csrf, DepositLink, type PageNotice, When } from "../layout";
import { QueueTable } from "../queue-table";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function HeldPage(props: { admin: ConsoleAdmin; items: Row[]; notice?: PageNotice }) {
	return (
		<QueueTable
			admin={props.admin}
			title="Held deposits"
			current="/console/held"
			notice={props.notice}
			caption="Deposits held for review, newest first"
			columns={["tx_id", "Amount", "Owner", "Why held", "First seen", "Review"]}
			items={props.items}
			empty="No deposit is held: the queue is clear."
			row={(d) => {
				const id = String(d.tx_id);
				return (
					<tr>
						<td>
							<DepositLink id={id} />
						</td>
						<td class="num">
							{String(d.amount)} {String(d.currency)}
						</td>
						<td>
							{d.user_id ? (
								<a class="mono" href={`/console/players/${String(d.user_id)}`}>
									{String(d.user_id)}
								</a>
							) : (
								"none"
							)}
						</td>
						<td>
							<code>{String(d.hold_reason ?? "–")}</code>
						</td>
						<td>
							<When at={d.first_seen_at as string} />
						</td>
						<td>
							<ReleaseForm admin={props.admin} id={id} owner={d.user_id as string | null} />
							<form class="inline" method="post" action={`/console/deposits/${id}/review`}>
								<Csrf token={props.admin.csrf} />
								<input type="hidden" name="decision" value="reject" />
								<div class="field">
									<label for={`reject-reason-${id}`}>Why reject {id.slice(0, 8)}</label>
									<input id={`reject-reason-${id}`} name="reason" required minlength={10} maxlength={1000} />
								</div>
								<button type="submit" aria-label={`Reject deposit ${id}`}>
									Reject
								</button>
							</form>
						</td>
					</tr>
				);
			}}
		/>
	);
}

/** Release to settlement: to the confirmed owner, or (without one) to the unmatched queue. */
function ReleaseForm(props: { admin: ConsoleAdmin; id: string; owner: string | null }) {
	const { id, owner } = props;
	return (
		<form class="inline" method="post" action={`/console/deposits/${id}/review`}>
			<Csrf token={props.admin.csrf} />
			<input type="hidden" name="decision" value="release" />
			{owner ? <input type="hidden" name="user_id" value={owner} /> : null}
			<div class="field">
				<label for={`release-reason-${id}`}>Why release {id.slice(0, 8)}</label>
				<input id={`release-reason-${id}`} name="reason" required minlength={10} maxlength={1000} />
			</div>
			{owner ? (
				<div class="field">
					<label>
						<input type="checkbox" name="confirm_owner" value={owner} required /> Credit player{" "}
						{owner.slice(0, 8)}, the deposit's owner
					</label>
				</div>
			) : null}
			<button type="submit" aria-label={`Release deposit ${id}`}>
				{owner ? "Release to owner" : "Release to unmatched"}
			</button>
		</form>
	);
}
