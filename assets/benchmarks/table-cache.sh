#!/bin/bash
# Run from anywhere: bash assets/benchmarks/table-cache.sh > assets/benchmarks/table-cache.txt
# Each command timed with an empty EXPLORER_CACHE_DIR, then again with the cache it filled.
set -e
cd "$(dirname "$0")/../.."
export OMP_NUM_THREADS=1
echo "Table cache: each command with an empty EXPLORER_CACHE_DIR, then again (cached); wall seconds"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(grep -c ^processor /proc/cpuinfo) cores, one thread; $(date -u +%Y-%m-%d)"
for cmd in "select --scenario parity-measured --set max_length=6" "select --scenario halting-parity-measured" "story check assets/stories/speed-prior.story.md"; do
  dir=$(mktemp -d)
  t0=$(date +%s.%N); EXPLORER_CACHE_DIR=$dir .venv/bin/python -m explorer $cmd > /dev/null 2>&1; t1=$(date +%s.%N)
  EXPLORER_CACHE_DIR=$dir .venv/bin/python -m explorer $cmd > /dev/null 2>&1; t2=$(date +%s.%N)
  printf "python -m explorer %s | empty cache %.1f s | cached %.1f s\n" "$cmd" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
  rm -rf "$dir"
done
