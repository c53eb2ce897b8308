/**
 * The edge Worker's Hono app: the webhook intake and the fast health check, a body size limit on
 * the webhooks, the JSON error envelope and a metrics data point for every request it serves;
 * every other request is forwarded to the API Worker (./forward.ts).
 *
 * @module
 */
import { Hono } from "hono";
import { handleError } from "../../shared/http/errors";
import { meterRequests } from "../../shared/http/metrics";
import { limitBody } from "../../shared/http/request-input";
import type { AppEnv } from "./env";
import { forwardToApi } from "./forward";
import { health } from "./routes/health";
import { isProviderWebhookPath, webhooks } from "./routes/webhooks";

/** Largest webhook body of our own format (a few hundred bytes in practice). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest body of a provider webhook (Moralis, Alchemy): a block's worth of transfers and logs. */
export const MAX_PROVIDER_BODY_BYTES = 1024 * 1024;

export const app = new Hono<AppEnv>();

app.use(meterRequests("edge"));

// Before anything reads a body: by Content-Length when given, else by counting the stream. Only
// on the webhooks: a forwarded body is not read here, the API Worker limits its own.
const webhookBodyLimit = limitBody(MAX_BODY_BYTES);
const providerBodyLimit = limitBody(MAX_PROVIDER_BODY_BYTES);
app.use("/api/v1/webhooks/*", (c, next) =>
	(isProviderWebhookPath(c.req.path) ? providerBodyLimit : webhookBodyLimit)(c, next),
);

app.route("/api/v1/health", health);
app.route("/api/v1/webhooks", webhooks);
// Everything else, unknown paths included (the API answers their 404).
app.all("*", forwardToApi);

app.onError(handleError);
