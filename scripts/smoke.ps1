# The smoke test, for users of the original scripts/smoke_and_checks.ps1: runs `ops smoke`
# (see `npm run ops -- smoke --help`). -StagingHost and -ArtifactDir work as before (and the
# STAGING_HOST / ARTIFACT_DIR variables); other arguments pass through, for example
# -- --health-only. Exit codes: 0 passed, 2 health, 3 webhook, 4 register/login, 5 credit,
# 6 transactions.
param(
    [string]$StagingHost = $(if ($env:STAGING_HOST) { $env:STAGING_HOST } else { "http://127.0.0.1:8787" }),
    [string]$ArtifactDir = $(if ($env:ARTIFACT_DIR) { $env:ARTIFACT_DIR } else { "artifacts/smoke_$((Get-Date).ToUniversalTime().ToString('yyyyMMddTHHmmssZ'))" })
)
Set-Location (Join-Path $PSScriptRoot "..")
npm run --silent ops -- smoke --host $StagingHost --out (Join-Path $ArtifactDir "smoke-result.json") @args
exit $LASTEXITCODE
