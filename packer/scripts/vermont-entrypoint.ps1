# Vermont's one-job entrypoint, started in each instance by vm/hyperv (or by
# the image's CMD). It gets the just-in-time runner config, runs GitHub's
# runner for exactly one job, reports the exit to the pool, and exits with
# the runner's exit code (the provider's Wait returns it; in a full VM,
# VERMONT_SHUTDOWN=1 powers the machine off instead).
#
# Where the config comes from, first match wins:
#   1. the file named by VERMONT_RUNNER_CONFIG_FILE (default
#      C:\vermont\runner-config), which vm/hyperv maps in read-only;
#   2. GET <orchestrator>/api/runner-config/<VERMONT_RUNNER_NAME>, where
#      <orchestrator> is VERMONT_ORCHESTRATOR_URL, or http://ORCHESTRATOR_IP:PORT
#      (PORT defaults to 8080). The body is the encoded JIT config, as plain
#      text or as JSON {"encoded_jit_config": "..."} (GitHub's field name).
# On exit it POSTs {"exit_code": N} to <orchestrator>/api/runner-complete/<name>
# when an orchestrator is known; the pool also learns of the exit from the
# provider, so a failed report is logged, not fatal.
#
# The config is a credential: it is never printed, and errors below name
# the URL or file, never the content.
$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'

$name = "$env:VERMONT_RUNNER_NAME"
$configFile = if ($env:VERMONT_RUNNER_CONFIG_FILE) { $env:VERMONT_RUNNER_CONFIG_FILE } else { 'C:\vermont\runner-config' }
$orchestrator = "$env:VERMONT_ORCHESTRATOR_URL".TrimEnd('/')
if (-not $orchestrator -and $env:ORCHESTRATOR_IP) {
    $port = if ($env:PORT) { $env:PORT } else { '8080' }
    $orchestrator = "http://$($env:ORCHESTRATOR_IP):$port"
}

# The pool's API wants the instance's token ($env:VERMONT_RUNNER_TOKEN, set by
# the pool on every instance) as a bearer token; it is a secret.
$authHeaders = @{}
if ($env:VERMONT_RUNNER_TOKEN) { $authHeaders['Authorization'] = "Bearer $env:VERMONT_RUNNER_TOKEN" }

function Get-RunnerConfig {
    if (Test-Path -LiteralPath $configFile -PathType Leaf) {
        $cfg = (Get-Content -Raw -LiteralPath $configFile).Trim()
        if ($cfg) { return $cfg }
        throw "runner config file $configFile is empty"
    }
    if (-not $orchestrator -or -not $name) {
        throw "no runner config at $configFile, and no orchestrator (VERMONT_ORCHESTRATOR_URL or ORCHESTRATOR_IP) and runner name (VERMONT_RUNNER_NAME) to fetch it"
    }
    $url = "$orchestrator/api/runner-config/$([uri]::EscapeDataString($name))"
    for ($attempt = 1; $attempt -le 8; $attempt++) {
        try {
            $resp = Invoke-WebRequest -UseBasicParsing -Method Get -Uri $url -Headers $authHeaders -TimeoutSec 30
            $body = "$($resp.Content)".Trim()
            $type = "$($resp.Headers['Content-Type'])"
            if ($type -like 'application/json*') {
                $body = "$((ConvertFrom-Json $body).encoded_jit_config)".Trim()
            }
            if ($body) { return $body }
            Write-Host "attempt ${attempt}: $url returned no config"
        } catch {
            # The exception names the URL and status, not the body.
            Write-Host "attempt ${attempt}: GET $url failed: $($_.Exception.Message)"
        }
        Start-Sleep -Seconds ([math]::Min(30, [math]::Pow(2, $attempt)))
    }
    throw "could not fetch the runner config from $url"
}

function Send-Completion([int] $code) {
    if (-not $orchestrator -or -not $name) { return }
    $url = "$orchestrator/api/runner-complete/$([uri]::EscapeDataString($name))"
    $json = ConvertTo-Json @{ exit_code = $code } -Compress
    for ($attempt = 1; $attempt -le 3; $attempt++) {
        try {
            Invoke-WebRequest -UseBasicParsing -Method Post -Uri $url -Headers $authHeaders -ContentType 'application/json' -Body $json -TimeoutSec 15 | Out-Null
            return
        } catch {
            Write-Host "attempt ${attempt}: POST $url failed: $($_.Exception.Message)"
            Start-Sleep -Seconds (2 * $attempt)
        }
    }
}

# Get-Registration returns the registration-token fallback that Vermont's
# pool hands out when GitHub has no just-in-time endpoint (older GHES): base64
# of JSON with "kind": "registration" (vm/github.RegistrationConfig). GitHub's
# own JIT configs have no "kind", so anything else returns $null.
function Get-Registration([string] $config) {
    try {
        $json = [Text.Encoding]::UTF8.GetString([Convert]::FromBase64String($config))
        $reg = ConvertFrom-Json $json
    } catch {
        return $null
    }
    if ($reg.kind -eq 'registration') { return $reg }
    return $null
}

$code = 1
try {
    $config = Get-RunnerConfig
    Set-Location -LiteralPath $PSScriptRoot
    $reg = Get-Registration $config
    if ($reg) {
        # config.cmd --ephemeral registers a runner that takes exactly one
        # job and then unregisters itself, like a JIT runner.
        & (Join-Path $PSScriptRoot 'config.cmd') --unattended --ephemeral --replace `
            --url $reg.url --token $reg.token --name $reg.name `
            --labels ($reg.labels -join ',') --work $(if ($reg.work_folder) { $reg.work_folder } else { '_work' })
        if ($LASTEXITCODE -ne 0) { throw "config.cmd failed with exit code $LASTEXITCODE" }
        & (Join-Path $PSScriptRoot 'run.cmd')
    } else {
        # --jitconfig registers, runs exactly one job and removes the runner.
        & (Join-Path $PSScriptRoot 'run.cmd') --jitconfig $config
    }
    $code = $LASTEXITCODE
    Remove-Variable config, reg
    Write-Host "runner exited with code $code"
} catch {
    Write-Host "vermont entrypoint: $($_.Exception.Message)"
    $code = 1
} finally {
    Send-Completion $code
}
if ($env:VERMONT_SHUTDOWN -eq '1') {
    Stop-Computer -Force
}
exit $code
