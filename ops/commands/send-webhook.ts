/**
 * `ops webhook`: sends one freshly signed deposit webhook, as the blockchain watcher would.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { localBaseUrl, signingSecret } from "../local/defaults";
import { signWebhook } from "../webhook-signing";
import type { Command } from "./command";

export const sendWebhook: Command = {
	summary: "send one signed deposit webhook (Standard Webhooks) and print the answer",
	help: `usage: npm run ops -- webhook [options]

Signs a deposit webhook with the first secret of $WEBHOOK_SECRETS (or the local stack's
default) and posts it to <url>/api/v1/webhooks/<chain>.

  --url <base>            edge Worker base URL (default: the local stack, ${localBaseUrl()})
  --chain <chain>         bep20 | erc20 | trc20 (default: bep20)
  --amount <decimal>      amount as a decimal string (default: 10.5)
  --confirmations <n>     confirmations seen (default: 12)
  --user-id <uuid>        the player to credit
  --to-address <addr>     the deposit address
  --tx-hash <hash>        the transaction hash (default: a random one)
  --status <s>            pending | confirmed | removed (default: confirmed)`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				url: { type: "string", default: localBaseUrl() },
				chain: { type: "string", default: "bep20" },
				amount: { type: "string", default: "10.5" },
				confirmations: { type: "string", default: "12" },
				"user-id": { type: "string" },
				"to-address": { type: "string" },
				"tx-hash": { type: "string", default: `0x${randomBytes(32).toString("hex")}` },
				status: { type: "string", default: "confirmed" },
			},
		});
		const payload = {
			tx_hash: values["tx-hash"],
			amount: values.amount,
			confirmations: Number(values.confirmations),
			chain: values.chain,
			currency: "USDT",
			status: values.status,
			...(values["user-id"] ? { user_id: values["user-id"] } : {}),
			...(values["to-address"] ? { to_address: values["to-address"] } : {}),
		};
		const { headers, body } = signWebhook(signingSecret(), payload);
		const url = `${values.url.replace(/\/$/, "")}/api/v1/webhooks/${values.chain}`;
		let res: Response;
		try {
			res = await fetch(url, { method: "POST", headers, body });
		} catch (error) {
			throw new Error(
				`could not reach ${url}: ${(error as Error).message}. Is the stack running (npm start)?`,
			);
		}
		console.log(`POST ${url} → ${res.status}`);
		console.log(await res.text());
		return res.ok ? 0 : 1;
	},
};
