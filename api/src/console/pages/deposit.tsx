/**
 * A deposit's whole story: what it is and where it stands, every delivery received, its ledger
 * rows (credit, reversal), conflicts, shortfalls, dead letters and what admins did to it.
 */
import type { Child } from "hono/jsx";
import { Layout, Notice, SearchBox, Status, When } from "../layout";
import type { depositStory } from "../queries";
import type { ConsoleAdmin } from "../session";

type Story = NonNullable<Awaited<ReturnType<typeof depositStory>>>;
type Row = Record<string, unknown>;

const text = (v: unknown) => (v === null || v === undefined || v === "" ? "–" : String(v));

function Section(props: {
	title: string;
	rows: Row[];
	empty: string;
	head: string[];
	row: (r: Row) => Child[];
}) {
	return (
		<section aria-label={props.title}>
			<h2>{props.title}</h2>
			{props.rows.length ? (
				<table>
					<thead>
						<tr>
							{props.head.map((h) => (
								<th scope="col">{h}</th>
							))}
						</tr>
					</thead>
					<tbody>
						{props.rows.map((r) => (
							<tr>
								{props.row(r).map((cell) => (
									<td>{cell}</td>
								))}
							</tr>
						))}
					</tbody>
				</table>
			) : (
				<p class="muted">{props.empty}</p>
			)}
		</section>
	);
}

export function DepositPage(props: { admin: ConsoleAdmin; txId: string; story: Story; notice?: string }) {
	const { deposit: d, deliveries, ledger, conflicts, shortfalls, deadLetters, audit } = props.story;
	return (
		<Layout title={`Deposit ${props.txId}`} admin={props.admin}>
			<SearchBox />
			<h1>
				Deposit <code>{props.txId}</code>
			</h1>
			{props.notice ? <Notice kind="ok">{props.notice}</Notice> : null}
			{d ? (
				<dl class="facts" aria-label="Deposit">
					<dt>Status</dt>
					<dd>
						<Status status={String(d.status)} />
						{d.hold_reason ? ` (${text(d.hold_reason)})` : null}
					</dd>
					<dt>Amount</dt>
					<dd>
						{text(d.amount)} {text(d.currency)}
					</dd>
					<dt>Player</dt>
					<dd>
						{d.user_id ? (
							<a href={`/console/players/${d.user_id}`}>{text(d.username ?? d.user_id)}</a>
						) : (
							"none yet"
						)}
					</dd>
					<dt>Chain</dt>
					<dd>{text(d.chain)}</dd>
					<dt>tx hash</dt>
					<dd class="mono">{text(d.tx_hash)}</dd>
					<dt>Log index</dt>
					<dd>{text(d.log_index)}</dd>
					<dt>To address</dt>
					<dd class="mono">{text(d.to_address)}</dd>
					<dt>Confirmations</dt>
					<dd>
						{text(d.confirmations)} of {text(d.required_confirmations)}
					</dd>
					<dt>Block</dt>
					<dd class="mono">
						{text(d.block_number)} {d.block_hash ? text(d.block_hash) : ""}
					</dd>
					<dt>Inclusion</dt>
					<dd>{text(d.inclusion)}</dd>
					<dt>Checked on chain</dt>
					<dd>
						<When at={d.chain_checked_at as string} />
					</dd>
					<dt>First seen</dt>
					<dd>
						<When at={d.first_seen_at as string} />
					</dd>
					<dt>Credited</dt>
					<dd>
						<When at={d.credited_at as string} />
					</dd>
					<dt>Reversed</dt>
					<dd>
						<When at={d.reversed_at as string} />
					</dd>
				</dl>
			) : (
				<p>No deposit row exists for this tx_id: its messages never settled (see the dead letters below).</p>
			)}
			{d?.status === "unmatched" ? (
				<p>
					<a href={`/console/unmatched#deposit-${props.txId}`}>Assign this deposit to a player</a>
				</p>
			) : null}
			<Section
				title="Deliveries received"
				rows={deliveries}
				empty="No delivery recorded (deliveries are recorded from this version on)."
				head={[
					"Received",
					"Webhook id",
					"Source",
					"Status",
					"Confirmations",
					"Amount",
					"Attempt",
					"Edge version",
					"Consumer version",
				]}
				row={(r) => [
					<When at={r.received_at as string} />,
					<code>{text(r.webhook_id)}</code>,
					text(r.source),
					text(r.status),
					text(r.confirmations),
					`${text(r.amount)} ${text(r.currency)}`,
					text(r.attempts),
					<code>{text(r.edge_version)}</code>,
					<code>{text(r.consumer_version)}</code>,
				]}
			/>
			<Section
				title="Ledger rows"
				rows={ledger}
				empty="Nothing booked: no credit and no reversal."
				head={["Booked", "Type", "Amount", "Player", "Row id"]}
				row={(r) => [
					<When at={r.created_at as string} />,
					text(r.tx_type),
					`${text(r.amount)} ${text(r.currency)}`,
					text(r.username ?? r.user_id),
					<code>{text(r.id)}</code>,
				]}
			/>
			<Section
				title="Conflicts"
				rows={conflicts}
				empty="No delivery disagreed with this deposit."
				head={["Received", "Amount", "Webhook id", "Resolved"]}
				row={(r) => [
					<When at={r.created_at as string} />,
					`${text(r.amount)} ${text(r.currency)}`,
					<code>{text(r.webhook_id)}</code>,
					<When at={r.resolved_at as string} />,
				]}
			/>
			<Section
				title="Reversal shortfalls"
				rows={shortfalls}
				empty="No reversal fell short."
				head={["Recorded", "Shortfall", "Player", "Resolved"]}
				row={(r) => [
					<When at={r.created_at as string} />,
					`${text(r.shortfall)} ${text(r.currency)}`,
					text(r.user_id),
					<When at={r.resolved_at as string} />,
				]}
			/>
			<Section
				title="Dead letters"
				rows={deadLetters}
				empty="No message of this deposit was dead-lettered."
				head={["Stored", "Source", "Reason", "Attempts", "Redriven"]}
				row={(r) => [
					<When at={r.created_at as string} />,
					text(r.source),
					text(r.reason),
					text(r.attempts),
					<When at={r.redriven_at as string} />,
				]}
			/>
			<Section
				title="Admin actions"
				rows={audit}
				empty="No admin has acted on this deposit."
				head={["When", "Admin", "Action", "Details"]}
				row={(r) => [
					<When at={r.created_at as string} />,
					text(r.admin),
					<code>{text(r.action)}</code>,
					<pre>{JSON.stringify(r.details, null, 1)}</pre>,
				]}
			/>
		</Layout>
	);
}
