/**
 * The admin surface, `/api/v1/admin/*`: every route needs an admin's access token (obtained
 * with a TOTP code), and every action that changes something writes `audit_logs` in the same
 * statement that makes the change.
 *
 * @module
 */
import { Hono } from "hono";
import { limitBody } from "../../../../shared/http/request-input";
import { type AuthedEnv, requireAuth } from "../../lib/auth";
import { conflictResolution } from "./conflict-resolution";
import { deadLetters } from "./dead-letters";
import { depositAddressPool } from "./deposit-address-pool";
import { depositAddresses } from "./deposit-addresses";
import { deposits } from "./deposits";
import { lastNet } from "./last-net";
import { settlement } from "./settlement";
import { shortfalls } from "./shortfalls";

export const admin = new Hono<AuthedEnv>();

admin.use(requireAuth("admin"));
// Pool imports are lists of up to a thousand addresses, with a body limit of their own. Mounted
// before the small limit below: Hono runs middleware in the order it was registered, and a
// route's handler answers before any middleware registered after it.
admin.route("/deposit-addresses/pool", depositAddressPool);
admin.use(limitBody());
admin.route("/deposits/conflicts", conflictResolution);
admin.route("/deposits", deposits);
admin.route("/dead-letters", deadLetters);
admin.route("/last-net", lastNet);
admin.route("/deposit-addresses", depositAddresses);
admin.route("/settlement", settlement);
admin.route("/shortfalls", shortfalls);
