/**
 * `ops webhook`: makes a real USDT transfer on the local chain and sends the signed deposit
 * webhook for it, as the blockchain watcher would (transaction hash, log index, block number
 * and confirmations read from the chain). `--synthetic` sends a webhook for a transaction that
 * exists nowhere, for consumers that trust senders (CHAIN_VERIFICATION=sender) and load.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { transferOnLocalChain } from "../local/chain-transfer";
import { localBaseUrl, signingSecret } from "../local/defaults";
import { localRpcUrl } from "../local/local-chain";
import { postWebhook } from "../post-webhook";
import { UsageError } from "../usage-error";
import { signWebhook } from "../webhook-signing";
import type { Command } from "./command";

export const sendWebhook: Command = {
	summary: "make a real USDT transfer on the local chain and send its signed deposit webhook",
	help: `usage: npm run ops -- webhook --to-address <0x…> [options]
       npm run ops -- webhook --synthetic [options]

By default, sends a real USDT transfer on the local chain (npm start's anvil, ${localRpcUrl()})
from its funded sender to --to-address, waits for --confirmations on chain, then signs a deposit
webhook for it (first secret of $WEBHOOK_SECRETS, or the local stack's default) and posts it to
<url>/api/v1/webhooks/<chain>, with the hash, log index, block number and confirmations the
chain gives.

  --to-address <addr>     the deposit's address (required for a real transfer)
  --amount <decimal>      amount as a decimal string (default: 10.5)
  --confirmations <n>     wait for this many confirmations before sending (default: 12);
                          with --synthetic, the confirmations the webhook claims
  --user-id <uuid>        the player to credit
  --chain <chain>         bep20 | erc20 (default: bep20); trc20 with --synthetic only
  --status <s>            pending | confirmed | removed (default: confirmed)
  --url <base>            edge Worker base URL (default: the local stack, ${localBaseUrl()})
  --rpc-url <url>         the local chain (default: ${localRpcUrl()}; ANVIL_PORT changes it)
  --synthetic             no transfer: a random transaction hash, claims taken as given
  --tx-hash <hash>        with --synthetic: the transaction hash (default: a random one)`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				url: { type: "string", default: localBaseUrl() },
				"rpc-url": { type: "string", default: localRpcUrl() },
				chain: { type: "string", default: "bep20" },
				amount: { type: "string", default: "10.5" },
				confirmations: { type: "string", default: "12" },
				"user-id": { type: "string" },
				"to-address": { type: "string" },
				"tx-hash": { type: "string" },
				status: { type: "string", default: "confirmed" },
				synthetic: { type: "boolean", default: false },
			},
		});
		const confirmations = Number(values.confirmations);
		if (!Number.isInteger(confirmations) || confirmations < 0) {
			throw new UsageError(`--confirmations must be a whole number, not "${values.confirmations}"`);
		}
		let onChain: Record<string, unknown>;
		if (values.synthetic) {
			onChain = {
				tx_hash: values["tx-hash"] ?? `0x${randomBytes(32).toString("hex")}`,
				confirmations,
				...(values["to-address"] ? { to_address: values["to-address"] } : {}),
			};
		} else {
			if (values["tx-hash"])
				throw new UsageError("--tx-hash is only for --synthetic: a real transfer has its own hash");
			if (values.chain !== "bep20" && values.chain !== "erc20") {
				throw new UsageError(
					`the local chain carries bep20 and erc20 USDT, not ${values.chain}: use --synthetic for ${values.chain}`,
				);
			}
			if (!values["to-address"]) {
				throw new UsageError(
					"a real transfer needs the deposit's address: --to-address <0x…> (the address the player deposits to); --synthetic sends a webhook without a transfer",
				);
			}
			const transfer = await transferOnLocalChain({
				rpcUrl: values["rpc-url"],
				chain: values.chain,
				to: values["to-address"],
				amount: values.amount,
				confirmations: Math.max(1, confirmations),
				onProgress: (line) => console.log(line),
			});
			onChain = {
				tx_hash: transfer.txHash,
				log_index: transfer.logIndex,
				block_number: Number(transfer.blockNumber),
				confirmations: transfer.confirmations,
				to_address: values["to-address"],
			};
		}
		const payload = {
			...onChain,
			amount: values.amount,
			chain: values.chain,
			currency: "USDT",
			status: values.status,
			...(values["user-id"] ? { user_id: values["user-id"] } : {}),
		};
		const { headers, body } = signWebhook(signingSecret(), payload);
		return postWebhook(values.url, `/api/v1/webhooks/${values.chain}`, headers, body);
	},
};
