/**
 * The credential routes, each behind the `AUTH_LIMITER` rate limit and a small body limit:
 * `POST /register`, `POST /login`, `POST /refresh`. Mounted at `/api/v1` and at
 * `/api/v1/auth`, the two prefixes the original API's clients use.
 *
 * @module
 */
import { Hono } from "hono";
import { limitBody } from "../../../../shared/http/request-input";
import type { AppEnv } from "../../env";
import { authRateLimit } from "../../lib/rate-limit";
import { login } from "./login";
import { refresh } from "./refresh";
import { register } from "./register";

export const auth = new Hono<AppEnv>();

// The limit comes first: a flood of malformed bodies is still a flood.
auth.use("/register", authRateLimit("register"), limitBody());
auth.use("/login", authRateLimit("login"), limitBody());
auth.use("/refresh", authRateLimit("refresh"), limitBody());

auth.route("/register", register);
auth.route("/login", login);
auth.route("/refresh", refresh);
