/**
 * A provider's webhook body (Moralis Streams, Alchemy Notify) read into token transfers, by the
 * source's format.
 *
 * @module
 */
import type { FieldError } from "../../../shared/http/errors";
import { parseAlchemyPayload } from "./alchemy-payload";
import { parseMoralisPayload } from "./moralis-payload";
import type { TokenTransfer } from "./token-transfers";
import type { WebhookSource } from "./webhook-sources";

export type ProviderPayload =
	| {
			ok: true;
			/** A provider's test delivery (Moralis' test webhook): answered 2xx, nothing in it. */
			test: boolean;
			transfers: TokenTransfer[];
			/** Entries that are not token transfers at all (native coin, NFTs): never deposits. */
			others?: { field: string; txHash: string | null }[];
			/** The provider's id of this event, when it gives one. */
			eventId?: string | null;
	  }
	| {
			ok: false;
			reason: "unstorable_text" | "validation_failed" | "chain_not_enabled";
			fields: FieldError[];
	  };

/** Reads a parsed provider body for `source` (a `moralis` or `alchemy` source). */
export function parseProviderPayload(json: unknown, source: WebhookSource): ProviderPayload {
	return source.format === "moralis" ? parseMoralisPayload(json, source) : parseAlchemyPayload(json, source);
}
