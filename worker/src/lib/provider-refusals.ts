/**
 * The refusals the provider payload parsers (Moralis, Alchemy) share: a body or an entry that
 * fails its schema, and a network the source does not know or is not enabled for.
 *
 * @module
 */
import type * as z from "../../../schema/zod";
import { fieldErrors, MAX_FIELD_ERRORS } from "../../../shared/http/errors";
import type { ProviderPayload } from "./provider-payload";
import type { WebhookSource } from "./webhook-sources";

type Refusal = Extract<ProviderPayload, { ok: false }>;
type Network = WebhookSource["networks"] extends ReadonlyMap<string, infer N> ? N : never;

/** Why zod refused a payload, for the metrics data point. */
function refusalOf(error: z.ZodError): "unstorable_text" | "validation_failed" {
	return error.issues.some((i) => i.code === "custom" && i.params?.unstorable)
		? "unstorable_text"
		: "validation_failed";
}

/** The body (or, `under` a field, one entry of it) fails its schema: every failing field listed. */
export function schemaRefusal(error: z.ZodError, under?: string): Refusal {
	return {
		ok: false,
		reason: refusalOf(error),
		fields: fieldErrors(
			error.issues,
			under === undefined ? { max: MAX_FIELD_ERRORS } : { under, max: MAX_FIELD_ERRORS },
		),
	};
}

/**
 * The network the body names (`name`, at `path`), when `source` knows it and is enabled for its
 * chain; else the refusal that says which, naming the `kind` of name and the source's setting
 * (`mapIn`) that maps such names to chains.
 */
export function enabledNetwork(
	source: WebhookSource,
	name: string,
	at: { path: string; kind: string; mapIn: string },
): { network: Network } | { refusal: Refusal } {
	const network = source.networks.get(name);
	if (network && source.chains.has(network.chain)) return { network };
	return {
		refusal: {
			ok: false,
			reason: "chain_not_enabled",
			fields: [
				{
					path: at.path,
					message: network
						? `is ${network.chain}, which source ${source.name} is not enabled for (chains: ${[...source.chains].join(", ")})`
						: `is not a ${at.kind} source ${source.name} knows (${[...source.networks.keys()].join(", ")}); map it in its ${at.mapIn}`,
				},
			],
		},
	};
}
