# Builds the image Vermont's Hyper-V provider (vm/hyperv) boots: a Windows
# Server Core container image with GitHub's Actions runner and Vermont's
# one-job entrypoint installed. Run it on the Windows host that will run the
# pool (see README.md): the result lands in Docker's windowsfilter layer
# store, and its top layer folder is the pool's VM_TEMPLATE_PATH.

variable "base_image" {
  type        = string
  default     = "mcr.microsoft.com/windows/servercore:ltsc2022"
  description = "Windows base image. Hyper-V isolation runs it on any host at least as new."
}

variable "runner_version" {
  type        = string
  description = "GitHub Actions runner release, without the v (for example 2.328.0)."
}

variable "runner_sha256" {
  type        = string
  description = "SHA-256 of actions-runner-win-x64-<runner_version>.zip, as published in the release notes."
}

variable "image_repository" {
  type    = string
  default = "vermont/actions-runner-windows"
}

source "docker" "runner" {
  image             = var.base_image
  windows_container = true
  commit            = true
  changes = [
    "WORKDIR C:\\actions-runner",
    "CMD [\"powershell.exe\", \"-NoLogo\", \"-NoProfile\", \"-NonInteractive\", \"-ExecutionPolicy\", \"Bypass\", \"-File\", \"C:\\\\actions-runner\\\\vermont-entrypoint.ps1\"]",
  ]
}

build {
  sources = ["source.docker.runner"]

  provisioner "file" {
    source      = "${path.root}/scripts/vermont-entrypoint.ps1"
    destination = "C:/vermont-build/vermont-entrypoint.ps1"
  }

  provisioner "powershell" {
    environment_vars = [
      "RUNNER_VERSION=${var.runner_version}",
      "RUNNER_SHA256=${var.runner_sha256}",
    ]
    scripts = ["${path.root}/scripts/install-runner.ps1"]
  }

  post-processor "docker-tag" {
    repository = var.image_repository
    tags       = [var.runner_version]
  }
}
