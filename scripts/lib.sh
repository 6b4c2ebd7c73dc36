# Shared by run.sh and test.sh: checks and installs what a fresh Debian/Ubuntu machine lacks.
# Sourced, not executed.

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

require_dotnet() {
  command -v dotnet >/dev/null 2>&1 || fail "the .NET SDK is not installed: see https://dot.net (version 10 or newer)."
  local major
  major=$(dotnet --version 2>/dev/null | cut -d. -f1)
  [ "${major:-0}" -ge 10 ] || fail "the .NET SDK $(dotnet --version) is too old: version 10 or newer is needed."
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else fail "need root to run: $* (install sudo or run as root)"
  fi
}

# install_packages PACKAGE... : apt-get install only those whose command/package is missing.
install_packages() {
  local missing=()
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || fail "missing ${missing[*]} and this is not a Debian/Ubuntu machine: install them by hand."
  say "Installing ${missing[*]} (apt-get)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

container_runtime_running() {
  local runtime="${ASPIRE_CONTAINER_RUNTIME:-${DOTNET_ASPIRE_CONTAINER_RUNTIME:-docker}}"
  command -v "$runtime" >/dev/null 2>&1 && timeout 10 "$runtime" info >/dev/null 2>&1
}

# The benchmark harness (bench/node) and the JavaScript client (clients/js) run on Node.js 18 or newer (Debian 12's
# nodejs); installed from Debian when missing.
require_node() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || install_packages nodejs npm
  local major
  major=$(node --version | sed 's/^v\([0-9]*\).*/\1/')
  [ "${major:-0}" -ge 18 ] || fail "Node.js $(node --version) is too old for the benchmark harness and the JavaScript client: 18 or newer is needed."
}

# kubectl renders deploy/kubernetes in the tests (kubectl kustomize). Any kubectl will do; Debian's when there is none
# (installing it beside another would collide on /usr/bin/kubectl).
require_kubectl() {
  command -v kubectl >/dev/null 2>&1 || install_packages kubernetes-client
}
