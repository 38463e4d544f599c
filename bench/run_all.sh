#!/usr/bin/env bash
# Every benchmark, one heavy job at a time; outputs in bench/out/, the plot in docs/.
# Run from the repository root:  bench/run_all.sh   (about 45 minutes on 2 cores)
#
# The evaluations run with one thread for torch, FAISS and BLAS (ONE=...): on a 2-core machine shared
# with other work, torch's default two threads make every question wait for a descheduled thread
# (~0.5 s per question instead of ~12 ms; see docs/BENCHMARKS.md, bench 3), which would turn a
# 10-minute evaluation into hours. Bench 2 and 3 run both ways.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
DATA=../shared/data/squad-v1.1-dev.json.gz
ONE="env QA_THREADS=1 OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1"
mkdir -p bench/out

# the closing table: the full dev set, all three modes on one index (kept for bench 3)
$ONE $PY -m qa eval "$DATA" --mode all --index-dir bench/out/squad-dev --details bench/out/eval-full-details.jsonl \
    --json > bench/out/eval-full.json 2> bench/out/eval-full.log
# the yardsticks' layout (one paragraph = one document) and 2,000-question sample
$ONE $PY -m qa eval "$DATA" --mode all --layout paragraph --limit 2000 --seed 0 \
    --index-dir bench/out/squad-dev-paragraphs --details bench/out/eval-paragraph-2000-details.jsonl \
    --json > bench/out/eval-paragraph-2000.json 2> bench/out/eval-paragraph-2000.log
# SQuAD 2.0: 2,000 questions, threshold 0 so that the sweep can apply any threshold afterwards
$ONE $PY -m qa eval ../shared/data/squad-v2.0-dev.json.gz --mode all --limit 2000 --seed 0 --threshold 0 \
    --index-dir bench/out/squad2-dev --details bench/out/eval-v2-2000-details.jsonl \
    --json > bench/out/eval-v2-2000.json 2> bench/out/eval-v2-2000.log
$PY bench/threshold_sweep.py bench/out/eval-v2-2000-details.jsonl
# SQuAD v1.1: the same threshold sweep on the yardsticks' sample, and the rule-based reader for comparison
$ONE $PY -m qa eval "$DATA" --mode hybrid --limit 2000 --seed 0 --threshold 0 --index-dir bench/out/squad-dev \
    --details bench/out/eval-v1-t0-2000-details.jsonl --json > bench/out/eval-v1-t0-2000.json 2> bench/out/eval-v1-t0-2000.log
$PY bench/threshold_sweep.py bench/out/eval-v1-t0-2000-details.jsonl
$ONE $PY -m qa eval "$DATA" --mode all --limit 2000 --seed 0 --reader heuristic --index-dir bench/out/squad-dev \
    --json > bench/out/eval-v1-heuristic-2000.json 2> bench/out/eval-v1-heuristic-2000.log
# 1. recall@k table and plot
$PY bench/retrieval.py bench/out/eval-full.json bench/out/eval-paragraph-2000.json
# 2. build throughput, default threads and one thread
$PY bench/build_throughput.py --repeat 2 --tag default
$ONE $PY bench/build_throughput.py --repeat 2 --tag 1thread
# 3. latency, default threads and one thread
$PY bench/latency.py --tag default --questions 300
$ONE $PY bench/latency.py --tag 1thread --questions 300
# ... and with one core kept busy by a spinning process
$PY bench/latency.py --tag default-hog --hog --questions 0 --seed-rounds 3
$ONE $PY bench/latency.py --tag 1thread-hog --hog --questions 0 --seed-rounds 3
# 4. incremental re-index
$PY bench/incremental.py
# 5. the chat server under load (20 clients, 60 s, one upload), one thread and default threads; a failed
# check is reported in bench/out/load-*.json and does not stop the other benches
$PY bench/load.py --threads 1 || true
$PY bench/load.py || true
