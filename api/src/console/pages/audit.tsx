/** The audit log: every admin action, newest first, filtered by the start of the action's name. */
import { Layout, When } from "../layout";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function AuditPage(props: { admin: ConsoleAdmin; rows: Row[]; action: string }) {
	const last = props.rows.at(-1);
	return (
		<Layout title="Audit log" admin={props.admin} current="/console/audit">
			<h1>Audit log</h1>
			<form class="inline" method="get" action="/console/audit" aria-label="Filter the audit log">
				<div class="field">
					<label for="action">Action starts with</label>
					<input id="action" name="action" value={props.action} maxlength={128} placeholder="e.g. deposit." />
				</div>
				<button type="submit">Filter</button>
			</form>
			<table>
				<caption>Admin actions, newest first</caption>
				<thead>
					<tr>
						<th scope="col">When</th>
						<th scope="col">Admin</th>
						<th scope="col">Action</th>
						<th scope="col">Details</th>
					</tr>
				</thead>
				<tbody>
					{props.rows.map((r) => (
						<tr>
							<td>
								<When at={r.created_at as string} />
							</td>
							<td>{String(r.admin ?? "–")}</td>
							<td>
								<code>{String(r.action)}</code>
							</td>
							<td>
								<pre>{JSON.stringify(r.details, null, 1)}</pre>
							</td>
						</tr>
					))}
				</tbody>
			</table>
			{props.rows.length === 100 && last ? (
				<p>
					<a
						href={`/console/audit?action=${encodeURIComponent(props.action)}&before=${encodeURIComponent(String(last.created_at))}`}
					>
						Older entries
					</a>
				</p>
			) : null}
		</Layout>
	);
}
