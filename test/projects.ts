/** Names shared by the vitest config and the global setup. */
/** `edge-api`: the edge Worker's and the API Worker's tests, which meet at the edge's front door. */
export const TEST_PROJECTS = ["edge-api", "consumer", "node"] as const;
export type TestProjectName = (typeof TEST_PROJECTS)[number];

/** Where the global setup writes the consumer Worker's bundle (git-ignored). */
export const CONSUMER_BUNDLE_DIR = ".tmp/consumer-bundle";
/** Where the global setup writes the API Worker's bundle (git-ignored). */
export const API_BUNDLE_DIR = ".tmp/api-bundle";

/** The webhook secret the test Workers are configured with (Standard Webhooks form). */
export const TEST_WEBHOOK_SECRET = "whsec_dGVzdC13ZWJob29rLXNlY3JldC1mb3ItY3JpY2FsZ28=";
/** A second secret, configured beside the first, as during a rotation. */
export const TEST_WEBHOOK_SECRET_ROTATED = "whsec_cm90YXRlZC13ZWJob29rLXNlY3JldC1jcmljYWxnbw==";
/** The original senders' X-Signature secret (plain text, as the original's WEBHOOK_SECRET), and a rotated one. */
export const TEST_LEGACY_SECRET = "original-cricalgo-webhook-secret-for-tests";
export const TEST_LEGACY_SECRET_ROTATED = "original-cricalgo-webhook-secret-rotated";
/** The Moralis Streams secret of the test account, and a rotated one. */
export const TEST_MORALIS_SECRET = "moralis-streams-secret-for-tests-0123456789";
export const TEST_MORALIS_SECRET_ROTATED = "moralis-streams-secret-rotated-9876543210";
/** The Alchemy webhook signing key (Alchemy's keys read whsec_…, used as text), and a rotated one. */
export const TEST_ALCHEMY_SIGNING_KEY = "whsec_alchemyTestSigningKey0123456789abcd";
export const TEST_ALCHEMY_SIGNING_KEY_ROTATED = "whsec_alchemyRotatedSigningKey9876543210z";
export const TEST_JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256-0123456789";
/** The Telegram bot token the test API Worker checks Telegram login data with. */
export const TEST_TELEGRAM_BOT_TOKEN = "1234567890:test-bot-token-for-cricalgo-telegram-login";
