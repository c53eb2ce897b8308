/**
 * The edge Worker's Hono app: routes, the JSON error envelope, a metrics data point for every
 * request, and a body size limit on the API.
 *
 * @module
 */
import { Hono } from "hono";
import { ApiError, errorResponse, handleError } from "../../shared/http/errors";
import { meterRequests } from "../../shared/http/metrics";
import { limitBody } from "../../shared/http/request-input";
import { operatorsConsole } from "./console";
import type { AppEnv } from "./env";
import { openApiDocument } from "./openapi/document";
import { admin } from "./routes/admin";
import { auth } from "./routes/auth";
import { health } from "./routes/health";
import { transactions } from "./routes/transactions";
import { wallet } from "./routes/wallet";
import { isProviderWebhookPath, webhooks } from "./routes/webhooks";

/** Largest request body the API reads (webhooks of our own format are a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest body of a provider webhook (Moralis, Alchemy): a block's worth of transfers and logs. */
export const MAX_PROVIDER_BODY_BYTES = 1024 * 1024;

export const app = new Hono<AppEnv>();

app.use(meterRequests("edge"));

// Before anything reads a body: by Content-Length when given, else by counting the stream.
const apiBodyLimit = limitBody(MAX_BODY_BYTES);
const providerBodyLimit = limitBody(MAX_PROVIDER_BODY_BYTES);
app.use("/api/v1/*", (c, next) =>
	(isProviderWebhookPath(c.req.path) ? providerBodyLimit : apiBodyLimit)(c, next),
);

app.route("/api/v1/health", health);
app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument()));
app.route("/api/v1/webhooks", webhooks);
app.route("/api/v1", auth);
app.route("/api/v1/auth", auth);
app.route("/api/v1/wallet", wallet);
app.route("/api/v1/transactions", transactions);
app.route("/api/v1/admin", admin);
app.route("/console", operatorsConsole);

app.notFound((c) =>
	errorResponse(c, new ApiError("not_found", `no route for ${c.req.method} ${c.req.path}`)),
);

app.onError(handleError);
