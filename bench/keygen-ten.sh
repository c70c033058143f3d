#!/usr/bin/env bash
# `mpc keygen` as a user waits for it: a Release mpc-server on 127.0.0.1 with a fresh data directory, then one
# keygen that creates the device profile and ten more in a row (each a new process, MPC_PASSPHRASE set so the
# profile and key files are sealed with Argon2id). Prints each run's wall clock and --verbose split, the median and
# the slowest of the ten, and F (half an RSA-4096 signature by `openssl speed`, before and after the runs).
# Usage: bench/keygen-ten.sh [work-dir]   (after `dotnet build src/Mpc.Cli -c Release`; docs/benchmarks.md)
# Then, against the same warm server: `mpc refresh` of those keys, ten in a row after the first, and MPC_BENCH_FIRST_USE (default 5)
# keygens each in a new directory, so each creates a device profile (a new device's first command).
# MPC_CLI=artifacts/native/mpc runs the natively compiled client (`./build.sh native`) instead of `dotnet mpc.dll`;
# MPC_DLL=path/to/mpc.dll another framework-dependent build (e.g. a ReadyToRun publish), against the same server.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
bin=$repo/src/Mpc.Cli/bin/Release/net10.0
port=${MPC_BENCH_PORT:-7493}
mkdir -p "$work/keys"
floor() { openssl speed -seconds 3 rsa4096 2>/dev/null | awk '/^rsa 4096/ { sub("s", "", $4); print $4 / 2 * 1000 }'; }
f_before=$(floor)
# 27 keygens and refreshes of one user in a few minutes (more with MPC_BENCH_WARMUP) measure speed, not the per-user
# limit on new Paillier keys (20 per 10 minutes by default): it is off for this server.
Mpc__Signer__MaxPaillierKeysPerUser=0 dotnet "$bin/mpc-server.dll" --urls "http://127.0.0.1:$port" --data "$work/data" >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do grep -q "Now listening\|listening on" "$work/server.log" 2>/dev/null && break; sleep 0.5; done
# MPC_BENCH_SETTLE=S: wait S seconds after the server listens, and again before the refreshes and before the new
# devices, so each series of runs starts with the server's Paillier key pool (16 keys by default) full, as on a server
# that has been up for a while (default 10; 0 starts each series at once, with the pool refilling beside the runs).
settle() { sleep "${MPC_BENCH_SETTLE:-10}"; }
settle
MPC_TOKEN=$(dotnet "$bin/mpc-server.dll" token --data "$work/data" --user keygen-bench)
export MPC_TOKEN MPC_PASSPHRASE=${MPC_PASSPHRASE:-keygen-bench-passphrase}
cli=(dotnet "${MPC_DLL:-$bin/mpc.dll}")
[ -n "${MPC_CLI:-}" ] && cli=("$(cd "$(dirname "$MPC_CLI")" && pwd)/$(basename "$MPC_CLI")")
# MPC_BENCH_WARMUP=N: N keygens and N refreshes of a warm-up device first (not counted), so the server has run its
# JIT's later tiers for both, as a server that has been up for a while has (a fresh process spends its first seconds
# of CPU compiling, on the same cores as the commands).
mkdir -p "$work/warmup"
for i in $(seq 1 "${MPC_BENCH_WARMUP:-0}"); do
  (cd "$work" && "${cli[@]}" keygen --server "http://127.0.0.1:$port" --out "warmup/k$i.key") >/dev/null 2>&1
  (cd "$work" && "${cli[@]}" refresh --server "http://127.0.0.1:$port" --key "warmup/k$i.key") >/dev/null 2>&1
done
# timed LABEL LOG OPERATION ARGS...: runs one `mpc` command in $work (its output to LOG), prints its wall clock with
# its `time (OPERATION)` line, and leaves the seconds in $elapsed.
timed() {
  local label=$1 log=$2 operation=$3; shift 3
  local start end
  start=$(date +%s.%N)
  (cd "$work" && "${cli[@]}" "$operation" --server "http://127.0.0.1:$port" --verbose "$@") >"$log" 2>&1
  end=$(date +%s.%N)
  elapsed=$(echo "$end - $start" | bc)
  printf '%s %6.2f s  %s\n' "$label" "$elapsed" "$(grep -h "time ($operation)" "$log" | head -1)"
}
times=()
for i in $(seq 0 10); do
  timed "$(printf '%2d' "$i")" "$work/run$i.log" keygen --out "keys/k$i.key"
  [ "$i" -gt 0 ] && times+=("$elapsed")
done
refreshes=()
settle
# Like the keygens, ten refreshes in a row after a first one (of the profile's key, k0, not counted): on a VM whose
# balloon reports free pages to the host, the first command after a pause finds the memory it needs (Argon2id's 64
# MiB) handed back to the host, and pays a host fault for every page it touches (docs/benchmarks.md).
for i in $(seq 0 10); do
  timed "$(printf 'refresh %2d' "$i")" "$work/refresh$i.log" refresh --key "keys/k$i.key"
  [ "$i" -gt 0 ] && refreshes+=("$elapsed")
done
firsts=()
[ "${MPC_BENCH_FIRST_USE:-5}" -gt 0 ] && settle
for i in $(seq 1 "${MPC_BENCH_FIRST_USE:-5}"); do
  mkdir -p "$work/device$i"
  timed "first use $i" "$work/first$i.log" keygen --out "device$i/k.key"
  firsts+=("$elapsed")
done
kill $server 2>/dev/null || true
wait $server 2>/dev/null || true
f_after=$(floor)
f=$(echo "($f_before + $f_after) / 2" | bc -l)
printf 'F = %.2f ms (%.2f before, %.2f after)\n' "$f" "$f_before" "$f_after"
summary() {
  local name=$1; shift
  local sorted median slowest
  [ "$#" -gt 0 ] || return 0 # e.g. MPC_BENCH_FIRST_USE=0: nothing to summarise
  sorted=$(printf '%s\n' "$@" | sort -n)
  median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
  slowest=$(echo "$sorted" | tail -1)
  printf '%s: median of %d %.2f s = %.0f F; slowest: %.2f s = %.0f F\n' "$name" "$#" "$median" "$(echo "$median * 1000 / $f" | bc -l)" "$slowest" "$(echo "$slowest * 1000 / $f" | bc -l)"
}
summary keygen "${times[@]}"
summary refresh "${refreshes[@]}"
summary "first use" "${firsts[@]}"
