#!/usr/bin/env bash
# One entry point for a fresh machine and for CI (.ci/run calls it).
#
#   ./build.sh deps   install what the tests need besides the .NET SDK: the openssl CLI and libcrypto 3,
#                     redis-server (cluster tests), SoftHSM 2 (PKCS#11 tests), libsecp256k1 and node/npm
#                     with @noble/curves (independent low-s verifiers), chromium (headless browser tests of
#                     tests/Mpc.Browser.Tests), libargon2 (the client's fast Argon2id); Debian/Ubuntu packages through
#                     apt-get (as root, or through sudo)
#   ./build.sh test   deps, then the whole test suite: dotnet build Mpc.sln -c Release, then
#                     dotnet test Mpc.sln -c Release --no-build (built first, the test assemblies run two at a time,
#                     one per MSBuild node; with the build inside dotnet test they ran one after another)
#   ./build.sh native the mpc CLI compiled to native code (Native AOT) into artifacts/native/mpc, with mpc-server
#                     beside it for `mpc demo`: no JIT and no runtime start, about half of a keygen's wall clock
#                     (needs clang; `deps` installs it)
#
# Any further arguments after "test" go to dotnet test (e.g. --filter "FullyQualifiedName~HelmChartTests").
set -uo pipefail
cd "$(dirname "$0")"

log() { printf '[build] %s\n' "$*" >&2; }

packages=(openssl libssl3 redis-server softhsm2 libsecp256k1-1 libargon2-1 chromium clang)

install_dependencies() {
  local sudo=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  fi
  if command -v apt-get >/dev/null 2>&1 && [ "$sudo" != "none" ]; then
    log "installing test dependencies with apt-get: ${packages[*]} (and nodejs npm if npm is missing)"
    $sudo apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed; continuing with what is installed"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${packages[@]}" >/dev/null 2>&1 \
      || log "apt-get install failed; continuing with what is installed"
    if ! command -v npm >/dev/null 2>&1; then
      DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq nodejs npm >/dev/null 2>&1 || log "installing node and npm failed"
    fi
  else
    log "no apt-get (or no root and no sudo): install these yourself: ${packages[*]} nodejs npm"
  fi

  # @noble/curves, pinned by its package-lock.json, for the independent low-s verifier of tests/Mpc.Protocol.Tests.
  if command -v npm >/dev/null 2>&1; then
    npm ci --silent --no-audit --no-fund --prefix tests/Mpc.Protocol.Tests/noble >/dev/null 2>&1 \
      || log "npm ci for tests/Mpc.Protocol.Tests/noble failed; the low-s interop test will say so"
  fi

  local missing=()
  for command in openssl redis-server redis-cli softhsm2-util node; do
    command -v "$command" >/dev/null 2>&1 || missing+=("$command")
  done
  [ -e /usr/lib/softhsm/libsofthsm2.so ] || missing+=("/usr/lib/softhsm/libsofthsm2.so")
  ldconfig -p 2>/dev/null | grep -q 'libargon2\.so\.1' || missing+=("libargon2.so.1")
  if [ "${#missing[@]}" -gt 0 ]; then
    log "still missing: ${missing[*]}; the tests that need them will fail and name them"
  fi
}

require_dotnet() {
  if ! command -v dotnet >/dev/null 2>&1; then
    log "the .NET 10 SDK is not installed (global.json asks for $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' global.json)); install it first"
    exit 1
  fi
}

case "${1:-}" in
  deps)
    install_dependencies
    ;;
  test)
    shift
    require_dotnet
    install_dependencies
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    dotnet build Mpc.sln -c Release || exit $?
    exec dotnet test Mpc.sln -c Release --no-build "$@"
    ;;
  native)
    shift
    require_dotnet
    compiler=""
    for candidate in clang clang-19 clang-18 clang-17 clang-16 clang-15 clang-14; do
      command -v "$candidate" >/dev/null 2>&1 && { compiler=$candidate; break; }
    done
    if [ -z "$compiler" ]; then
      log "Native AOT links with clang, which is not installed: run ./build.sh deps (or apt-get install clang)"
      exit 1
    fi
    case "$(uname -m)" in
      x86_64) rid=linux-x64 ;;
      aarch64) rid=linux-arm64 ;;
      *) log "no native build for $(uname -m); use the framework-dependent mpc (dotnet build src/Mpc.Cli -c Release)"; exit 1 ;;
    esac
    export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
    exec dotnet publish src/Mpc.Cli -c Release -r "$rid" -p:PublishAot=true -p:CppCompilerAndLinker="$compiler" -o artifacts/native "$@"
    ;;
  *)
    echo "usage: ./build.sh deps | test [dotnet test arguments] | native [dotnet publish arguments]" >&2
    exit 2
    ;;
esac
