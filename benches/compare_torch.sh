#!/usr/bin/env bash
# Side-by-side training-speed comparison: for each (latent, batch, threads) runs the PyTorch
# baseline (shared/bench/torch_vae_bench.py) and `pipeline bench train` back to back, so both see
# the same machine load. Usage: benches/compare_torch.sh [STEPS] [THREADS...]
# Needs torch installed for python3 (comparison only, not a project dependency).
set -euo pipefail
steps=${1:-100}
shift || true
threads=${*:-"1 2"}
root=$(cd "$(dirname "$0")/.." && pwd)
torch_bench=${TORCH_BENCH:-$root/../shared/bench/torch_vae_bench.py}
[ -f "$torch_bench" ] || torch_bench=/work/shared/bench/torch_vae_bench.py
cd "$root"
cargo build --release -q
bin=${CARGO_TARGET_DIR:-$root/target}/release/pipeline
for t in $threads; do
  for latent in 20 2; do
    for batch in 128 512; do
      echo "# load: $(cut -d' ' -f1-3 /proc/loadavg)"
      OMP_NUM_THREADS=$t MKL_NUM_THREADS=$t python3 "$torch_bench" 400 "$latent" "$batch" "$steps" 2>&1 | tail -1
      "$bin" bench train --hidden 400 --latent "$latent" --batch "$batch" --steps "$steps" --threads "$t"
    done
  done
done
