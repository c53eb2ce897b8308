/**
 * The API Worker's Hono app: player accounts, the admin API, the operators' console, the OpenAPI
 * document and the deep health check, with the JSON error envelope, a body size limit on the API
 * and a metrics data point for every request it serves. Requests reach it through the edge
 * Worker's service binding, unchanged (worker/src/forward.ts).
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

/**
 * Largest request body the API reads; routes set tighter limits of their own (account bodies,
 * shared/http/request-input.ts `MAX_JSON_BODY_BYTES`).
 */
export const MAX_BODY_BYTES = 64 * 1024;

export const app = new Hono<AppEnv>();

app.use(meterRequests("api"));

// Before anything reads a body: by Content-Length when given, else by counting the stream (the
// edge forwards bodies as streams, unread).
app.use("/api/v1/*", limitBody(MAX_BODY_BYTES));

app.route("/api/v1/health", health);
app.get("/api/v1/openapi.json", (c) => c.json(openApiDocument()));
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
