/** A player: wallet, deposit addresses and latest deposits. */
import { Layout, SearchBox } from "../layout";
import type { player } from "../queries";
import type { ConsoleAdmin } from "../session";
import { DepositTable } from "./search";

type Player = NonNullable<Awaited<ReturnType<typeof player>>>;

export function PlayerPage(props: { admin: ConsoleAdmin; player: Player }) {
	const { user: u, addresses, deposits } = props.player;
	return (
		<Layout title={`Player ${u.username}`} admin={props.admin}>
			<SearchBox />
			<h1>Player {String(u.username)}</h1>
			<dl class="facts" aria-label="Player">
				<dt>Id</dt>
				<dd class="mono">{String(u.id)}</dd>
				<dt>Telegram id</dt>
				<dd>{u.telegram_id === "0" ? "–" : String(u.telegram_id)}</dd>
				<dt>Status</dt>
				<dd>{String(u.status)}</dd>
				<dt>Deposit balance</dt>
				<dd>{String(u.deposit_balance ?? "–")}</dd>
				<dt>Winning balance</dt>
				<dd>{String(u.winning_balance ?? "–")}</dd>
				<dt>Bonus balance</dt>
				<dd>{String(u.bonus_balance ?? "–")}</dd>
			</dl>
			<h2>Deposit addresses</h2>
			{addresses.length ? (
				<ul>
					{addresses.map((a) => (
						<li>
							{String(a.family)}: <code>{String(a.address)}</code> ({String(a.origin)})
						</li>
					))}
				</ul>
			) : (
				<p class="muted">None issued.</p>
			)}
			{deposits.length ? (
				<DepositTable caption={`Latest deposits (${deposits.length})`} deposits={deposits} />
			) : (
				<p class="muted">No deposit attributed to this player.</p>
			)}
		</Layout>
	);
}
