/** Search results: the deposits and the players a text names. */
import { DepositLink, Layout, SearchBox, Status, When } from "../layout";
import type { ConsoleAdmin } from "../session";

type Row = Record<string, unknown>;

export function DepositTable(props: { caption: string; deposits: Row[] }) {
	return (
		<table>
			<caption>{props.caption}</caption>
			<thead>
				<tr>
					<th scope="col">tx_id</th>
					<th scope="col">Chain</th>
					<th scope="col">tx hash</th>
					<th scope="col">Amount</th>
					<th scope="col">Status</th>
					<th scope="col">Player</th>
					<th scope="col">First seen</th>
				</tr>
			</thead>
			<tbody>
				{props.deposits.map((d) => (
					<tr>
						<td>
							<DepositLink id={String(d.id)} />
						</td>
						<td>{String(d.chain)}</td>
						<td class="mono">{String(d.tx_hash)}</td>
						<td class="num">
							{String(d.amount)} {String(d.currency)}
						</td>
						<td>
							<Status status={String(d.status)} />
						</td>
						<td>
							{d.user_id ? (
								<a href={`/console/players/${d.user_id}`}>{String(d.username ?? d.user_id)}</a>
							) : (
								"–"
							)}
						</td>
						<td>
							<When at={d.first_seen_at as string} />
						</td>
					</tr>
				))}
			</tbody>
		</table>
	);
}

export function SearchPage(props: { admin: ConsoleAdmin; q: string; deposits: Row[]; players: Row[] }) {
	const nothing = !props.deposits.length && !props.players.length;
	return (
		<Layout title={`Find “${props.q}”`} admin={props.admin} current="/console">
			<h1>Find</h1>
			<SearchBox q={props.q} />
			{nothing ? (
				<p role="status">
					Nothing matches <code>{props.q}</code>. Search by the whole tx hash, tx_id, webhook id, deposit
					address, player id, username or Telegram id.
				</p>
			) : null}
			{props.players.length ? (
				<table>
					<caption>Players ({props.players.length})</caption>
					<thead>
						<tr>
							<th scope="col">Username</th>
							<th scope="col">Telegram id</th>
							<th scope="col">Status</th>
							<th scope="col">Deposit balance</th>
						</tr>
					</thead>
					<tbody>
						{props.players.map((p) => (
							<tr>
								<td>
									<a href={`/console/players/${p.id}`}>{String(p.username)}</a>
								</td>
								<td>{p.telegram_id === "0" ? "–" : String(p.telegram_id)}</td>
								<td>{String(p.status)}</td>
								<td class="num">{String(p.deposit_balance ?? "–")}</td>
							</tr>
						))}
					</tbody>
				</table>
			) : null}
			{props.deposits.length ? (
				<DepositTable caption={`Deposits (${props.deposits.length})`} deposits={props.deposits} />
			) : null}
		</Layout>
	);
}
