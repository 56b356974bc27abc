#!/usr/bin/env bash
# Conv VAE training speed against PyTorch: `pipeline bench train --architecture conv` and
# scripts/torch_conv_vae_bench.py (the same net) alternated ROUNDS times back to back at THREADS,
# so both see the same machine load, then the median samples/s of each and their ratio.
# Usage: benches/compare_torch_conv.sh [ROUNDS] [STEPS] [THREADS] [BATCH]   (default 5 100 2 128)
# Needs torch installed for python3 (comparison only, not a project dependency).
set -euo pipefail
rounds=${1:-5} steps=${2:-100} threads=${3:-2} batch=${4:-128}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cargo build --release -q --bin pipeline
bin=${CARGO_TARGET_DIR:-$root/target}/release/pipeline
ours=() theirs=()
rate() { sed -n 's/.*: \([0-9]*\) samples\/s.*/\1/p'; }
for r in $(seq "$rounds"); do
  echo "# round $r, load: $(cut -d' ' -f1-3 /proc/loadavg)"
  line=$("$bin" bench train --architecture conv --latent 20 --batch "$batch" --steps "$steps" \
    --threads "$threads")
  echo "$line"; ours+=("$(rate <<<"$line")")
  line=$(OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads \
    python3 scripts/torch_conv_vae_bench.py 256 20 "$batch" "$steps" "$threads" 2>&1 | tail -1)
  echo "$line"; theirs+=("$(rate <<<"$line")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
a=$(median "${ours[@]}") b=$(median "${theirs[@]}")
echo "# median samples/s: pipeline $a, pytorch $b, ratio $(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a/b}')x" \
  "(load now: $(cut -d' ' -f1-3 /proc/loadavg))"
