/**
 * The admin surface, `/api/v1/admin/*`: every route needs an admin's access token (obtained
 * with a TOTP code), and every action that changes something writes `audit_logs` in the same
 * statement that makes the change.
 *
 * @module
 */
import { Hono } from "hono";
import { type AuthedEnv, requireAuth } from "../../lib/auth";
import { limitBody } from "../../lib/request-input";
import { deadLetters } from "./dead-letters";
import { depositAddresses } from "./deposit-addresses";
import { deposits } from "./deposits";

export const admin = new Hono<AuthedEnv>();

admin.use(requireAuth("admin"), limitBody());
admin.route("/deposits", deposits);
admin.route("/dead-letters", deadLetters);
admin.route("/deposit-addresses", depositAddresses);
