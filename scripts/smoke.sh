#!/usr/bin/env sh
# The smoke test, for users of the original scripts/smoke_and_checks.sh: runs `ops smoke`
# (see `npm run ops -- smoke --help`). STAGING_HOST and ARTIFACT_DIR are honoured as before;
# other arguments pass through (for example --secret, --health-only). Exit codes: 0 passed,
# 2 health, 3 webhook, 4 register/login, 5 credit, 6 transactions.
set -eu
cd "$(dirname "$0")/.."
host="${STAGING_HOST:-http://127.0.0.1:8787}"
artifacts="${ARTIFACT_DIR:-artifacts/smoke_$(date -u +%Y%m%dT%H%M%SZ)}"
exec npm run --silent ops -- smoke --host "$host" --out "$artifacts/smoke-result.json" "$@"
