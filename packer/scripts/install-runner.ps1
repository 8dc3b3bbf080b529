# Installs GitHub's Actions runner and Vermont's entrypoint into the image.
# Run by Packer's powershell provisioner with RUNNER_VERSION and
# RUNNER_SHA256 set. Fails the build on any error, including a checksum
# mismatch: a runner that was not verified never ships.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue' # Invoke-WebRequest is many times slower with the progress bar

$version = "$env:RUNNER_VERSION"
$expected = "$env:RUNNER_SHA256".Trim().ToLowerInvariant()
if ($version -notmatch '^\d+\.\d+\.\d+$') {
    throw "RUNNER_VERSION '$version' is not a release number like 2.328.0"
}
if ($expected -notmatch '^[0-9a-f]{64}$') {
    throw 'RUNNER_SHA256 must be the 64 hex digits published with the release'
}

[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12
$asset = "actions-runner-win-x64-$version.zip"
$url = "https://github.com/actions/runner/releases/download/v$version/$asset"
$zip = Join-Path $env:TEMP $asset
Write-Host "Downloading $url"
Invoke-WebRequest -UseBasicParsing -Uri $url -OutFile $zip

$actual = (Get-FileHash -Algorithm SHA256 -LiteralPath $zip).Hash.ToLowerInvariant()
if ($actual -ne $expected) {
    Remove-Item -LiteralPath $zip -Force
    throw "checksum mismatch for ${asset}: got $actual, want $expected"
}
Write-Host "Verified $asset ($actual)"

$dir = 'C:\actions-runner'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
Expand-Archive -LiteralPath $zip -DestinationPath $dir -Force
Remove-Item -LiteralPath $zip -Force

# The entrypoint the provider starts in every instance (vm/hyperv's
# default command line points here).
Copy-Item -LiteralPath 'C:\vermont-build\vermont-entrypoint.ps1' -Destination (Join-Path $dir 'vermont-entrypoint.ps1') -Force
Remove-Item -LiteralPath 'C:\vermont-build' -Recurse -Force

# The folder the provider maps the runner config into (read-only) must not
# pre-exist with content; an empty one is fine.
New-Item -ItemType Directory -Force -Path 'C:\vermont' | Out-Null

if (-not (Test-Path -LiteralPath (Join-Path $dir 'run.cmd'))) {
    throw "run.cmd missing from $dir after extraction"
}
Write-Host "GitHub Actions runner $version installed in $dir"
