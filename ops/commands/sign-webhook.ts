/**
 * `ops sign`: signs a webhook body the way one of the configured sources signs it (our watcher
 * with Standard Webhooks or the Svix header names, the original senders' X-Signature, Moralis,
 * Alchemy) and prints the headers, or posts it to the local stack (or `--url`).
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { splitSecrets } from "../../shared/webhook-secrets";
import { localBaseUrl, localSourceSecrets, signingSecret } from "../local/defaults";
import { postWebhook } from "../post-webhook";
import { UsageError } from "../usage-error";
import { type SigningScheme, signAs } from "../webhook-signing";
import type { Command } from "./command";

/** Each source of the local configuration: its scheme, the secret it signs with, its route. */
function sources(): Record<
	string,
	{ scheme: SigningScheme; secret: () => string; path: (chain: string) => string }
> {
	const secrets = localSourceSecrets();
	const first = (value: string) => splitSecrets(value)[0] ?? value;
	return {
		cricalgo: {
			scheme: "standard-webhooks",
			secret: signingSecret,
			path: (chain) => `/api/v1/webhooks/${chain}`,
		},
		svix: { scheme: "svix", secret: signingSecret, path: (chain) => `/api/v1/webhooks/${chain}` },
		original: {
			scheme: "x-signature",
			secret: () => first(secrets.LEGACY_WEBHOOK_SECRETS),
			path: (chain) => `/api/v1/webhooks/${chain}`,
		},
		moralis: {
			scheme: "moralis",
			secret: () => first(secrets.MORALIS_STREAM_SECRETS),
			path: () => "/api/v1/webhooks/moralis",
		},
		alchemy: {
			scheme: "alchemy",
			secret: () => first(secrets.ALCHEMY_SIGNING_KEYS),
			path: () => "/api/v1/webhooks/alchemy",
		},
	};
}

export const signWebhook: Command = {
	summary:
		"sign a webhook body as a source does (cricalgo, svix, original, moralis, alchemy); print or send it",
	help: `usage: npm run ops -- sign --source <source> (--body '<json>' | --file <path>) [options]

Signs the exact body text as the source signs it and prints one "name: value" line per
header. Secrets are the local stack's (printed by npm start), or from the environment:
WEBHOOK_SECRETS (cricalgo, svix), LEGACY_WEBHOOK_SECRETS (original), MORALIS_STREAM_SECRETS
(moralis), ALCHEMY_SIGNING_KEYS (alchemy); the first one is used.

  --source <name>   cricalgo (Standard Webhooks) | svix (the same, svix-* headers) |
                    original (X-Signature) | moralis | alchemy
  --body <json>     the body, exactly as it is to be sent
  --file <path>     read the body from a file instead
  --secret <s>      sign with this secret instead
  --send            post it and print the answer, to --url
  --url <base>      edge Worker base URL (default: the local stack, ${localBaseUrl()})
  --chain <chain>   for cricalgo, svix and original: the chain in the URL (default: bep20)

example:
  npm run ops -- sign --source moralis --file block.json --send`,
	async run(args) {
		const { values } = parseArgs({
			args,
			options: {
				source: { type: "string" },
				body: { type: "string" },
				file: { type: "string" },
				secret: { type: "string" },
				send: { type: "boolean", default: false },
				url: { type: "string", default: localBaseUrl() },
				chain: { type: "string", default: "bep20" },
			},
		});
		const known = sources();
		const source = values.source ? known[values.source] : undefined;
		if (!source) throw new UsageError(`--source must be one of ${Object.keys(known).join(", ")}`);
		if ((values.body === undefined) === (values.file === undefined)) {
			throw new UsageError("give the body with exactly one of --body '<json>' or --file <path>");
		}
		const body = values.body ?? readFileSync(values.file!, "utf8");
		const { headers } = signAs(source.scheme, values.secret ?? source.secret(), body);
		if (!values.send) {
			for (const [name, value] of Object.entries(headers)) console.log(`${name}: ${value}`);
			return 0;
		}
		return postWebhook(values.url, source.path(values.chain), headers, body);
	},
};
