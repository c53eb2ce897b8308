/**
 * The held queue: deposits kept for an operator's review (why, in `hold_reason`), each with a
 * form that rejects it (final, never credited) or releases it to settlement, with the reason
 * the review API requires.
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
										<code>{String(d.hold_reason ?? "–")}</code>
									</td>
									<td>
										<When at={d.first_seen_at as string} />
									</td>
									<td>
										<form class="inline" method="post" action={`/console/deposits/${id}/review`}>
											<Csrf token={props.admin.csrf} />
											<div class="field">
												<label for={`decision-${id}`}>Decision for {id.slice(0, 8)}</label>
												<select id={`decision-${id}`} name="decision">
													<option value="reject">reject</option>
													<option value="release">release</option>
												</select>
											</div>
											<div class="field">
												<label for={`reason-${id}`}>Reason for {id.slice(0, 8)}</label>
												<input id={`reason-${id}`} name="reason" required minlength={10} maxlength={1000} />
											</div>
											<button type="submit" aria-label={`Review deposit ${id}`}>
												Review
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
