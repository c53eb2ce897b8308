/**
 * The `WEBHOOK_SECRETS` setting, read the same way by the edge Worker and by the ops tools
 * that sign test webhooks.
 *
 * @module
 */

/** Splits `WEBHOOK_SECRETS` (space or comma separated) into the configured secrets. */
export function splitSecrets(value: string | undefined): string[] {
	return (value ?? "").split(/[\s,]+/).filter(Boolean);
}
