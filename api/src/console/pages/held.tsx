/**
 * The held queue: deposits kept for an operator's review (why, in `hold_reason`), each with two
 * forms, both asking the reason the review API requires: release to settlement (to the owner
 * fixed on the deposit, whom the reviewer confirms; without one, to the unmatched queue), and
 * reject (final, never credited). The console route and then the review API check it all again.
 */
import { Csrf, DepositLink, Layout, Notice, When } from "../layout";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function HeldPage(props: {
	admin: ConsoleAdmin;
	items: Row[];
	notice?: { kind: "ok" | "error"; text: string };
}) {
	return (
		<Layout title="Held deposits" admin={props.admin} current="/console/held">
			<h1>Held deposits</h1>
			{props.notice ? <Notice kind={props.notice.kind}>{props.notice.text}</Notice> : null}
			{props.items.length ? (
				<table>
					<caption>Deposits held for review, newest first</caption>
					<thead>
						<tr>
							<th scope="col">tx_id</th>
							<th scope="col">Amount</th>
							<th scope="col">Owner</th>
							<th scope="col">Why held</th>
							<th scope="col">First seen</th>
							<th scope="col">Review</th>
						</tr>
					</thead>
					<tbody>
						{props.items.map((d) => {
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
												<input
													id={`reject-reason-${id}`}
													name="reason"
													required
													minlength={10}
													maxlength={1000}
												/>
											</div>
											<button type="submit" aria-label={`Reject deposit ${id}`}>
												Reject
											</button>
										</form>
									</td>
								</tr>
							);
						})}
					</tbody>
				</table>
			) : (
				<p role="status">No deposit is held: the queue is clear.</p>
			)}
		</Layout>
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
