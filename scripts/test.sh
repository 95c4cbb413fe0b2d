#!/usr/bin/env bash
# The README's test command, and what CI runs (.ci/run): installs what is missing, builds,
# runs every test against real redis-server processes the tests start themselves, checks the
# installed package, builds the reference manual (doxygen, no warning allowed), builds and
# runs the suite again with clang, then runs it under
# AddressSanitizer+UBSan and the concurrency tests under ThreadSanitizer.
#
# Usage: scripts/test.sh [STAGE...]      (default: every stage, in order)
# Stages: setup docs build test install install-shared clang asan tsan fuzz
#   e.g. scripts/test.sh build test      quick local loop, no sanitizers
# Environment:
#   ASYNCREDIS_STAGES="..."       same as the arguments
#   CMAKE_BUILD_PARALLEL_LEVEL    build jobs (default 2)
#   ASYNCREDIS_TEST_JOBS          ctest jobs (default 2; every test uses its own server/port)
#   ASYNCREDIS_TEST_TIMEOUT       seconds per test (default 300)
#   ASYNCREDIS_ALLOW_SKIPS=1      do not fail the run when a test reports GTEST_SKIP
#   ASYNCREDIS_FUZZ_SECONDS       seconds each libFuzzer target runs (default 60)
#   CCACHE_DIR                    default ~/.cache/ccache (cold on a fresh machine)
#   ASYNCREDIS_PRUNE_BUILDS=1     remove each build tree once no later stage of the run needs it
#                                 (default in CI: the trees of every stage together outgrew the
#                                 disk of a CI machine; each is several GB of debug info)
#
# Adding a stage: write a function stage_NAME (it runs in a subshell with `set -e`; fail by
# exiting non-zero, or `exit 77` to report it skipped with a reason from skip()), add NAME to
# ALL_STAGES, and if it needs another stage's output, add it to DEPENDS below.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

ALL_STAGES=(setup docs build test install install-shared clang asan tsan fuzz)
# What runs without arguments (and in CI). On 2 cores the whole run took 27 min before the clang
# stage (CI: build 7, asan 14, fuzz 3); the clang build adds ~8 cold. Keep it under 45.
DEFAULT_STAGES=(setup docs build test install install-shared clang asan tsan fuzz)
declare -A DEPENDS=(
  [test]=build
  [install]=build
)

export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}
# One compiler cache per user, with paths taken relative to the checkout: a fresh clone in
# another folder (CI) reuses what earlier builds compiled. On a new machine it starts cold.
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/ccache}
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
export CCACHE_NOHASHDIR=${CCACHE_NOHASHDIR:-true}
test_jobs=${ASYNCREDIS_TEST_JOBS:-2}
prune_builds=${ASYNCREDIS_PRUNE_BUILDS:-$([[ ${CI:-} == true ]] && echo 1 || echo 0)}
test_timeout=${ASYNCREDIS_TEST_TIMEOUT:-300}
log_dir=$root/build/test-logs

say() { printf '\n==> %s\n' "$*"; }
note() { printf 'test.sh: %s\n' "$*"; }
# In a stage: report it as skipped, with the reason, and leave the stage.
skip() {
  printf '%s\n' "$*" >"$log_dir/$current_stage.skip"
  note "skipping $current_stage: $*"
  exit 77
}

# Address-space randomisation with many random bits (vm.mmap_rnd_bits=32 on recent kernels)
# breaks the sanitizer runtimes of gcc 12 / clang 14 ("unexpected memory mapping"). Run
# sanitized tests without it when the system lets us (some container seccomp profiles don't).
no_aslr=()
if setarch "$(uname -m)" -R true >/dev/null 2>&1; then no_aslr=(setarch "$(uname -m)" -R); fi

# Runs ctest with a preset; fails if any test failed or was skipped (a test that cannot reach
# its server must fail, not skip: a skipped suite looks green while testing nothing).
run_ctest() {
  local preset=$1 log=$log_dir/ctest-$1.log
  shift
  local rc=0
  "${no_aslr[@]}" ctest --preset "$preset" --output-on-failure --no-tests=error \
    --timeout "$test_timeout" -j "$test_jobs" "$@" 2>&1 | tee "$log" || rc=$?
  if ((rc != 0)); then
    failure_digest "$log" >"$log_dir/$current_stage.failures"
    return "$rc"
  fi
  if grep -q '(Skipped)' "$log"; then
    note "skipped tests in the $preset run:"
    grep '(Skipped)' "$log" >&2
    if [[ ${ASYNCREDIS_ALLOW_SKIPS:-0} != 1 ]]; then
      note "failing: tests must not skip (ASYNCREDIS_ALLOW_SKIPS=1 to allow)"
      return 1
    fi
  fi
}

# What failed in a ctest log, short enough to survive at the end of a long CI output: the
# failed tests' names, then each failing assertion or sanitizer report with a few lines after it.
failure_digest() {
  local log=$1
  sed -n '/The following tests FAILED/,$p' "$log" | head -n 40
  grep -E -A8 ': Failure$|ERROR: (Address|Thread|Leak)Sanitizer|runtime error|\*\*\*Timeout|Exception: ' \
    "$log" | head -n 150
}

configure_and_build() {
  local preset=$1
  shift
  cmake --preset "$preset"
  cmake --build --preset "$preset" --parallel "$CMAKE_BUILD_PARALLEL_LEVEL" "$@"
}

stage_setup() {
  bash scripts/setup.sh
}

# The reference manual (doxygen over include/asyncredis): any warning, such as an undocumented
# public function, fails the stage. Needs no build; seconds.
stage_docs() {
  bash scripts/docs.sh
}

stage_build() {
  configure_and_build default
}

stage_test() {
  run_ctest default
}

stage_install() {
  bash scripts/check-install.sh build/default
}

stage_install-shared() {
  # The library alone, as a shared library: consumers of a distribution package get this.
  bash scripts/check-install.sh --shared build/install-shared
}

stage_clang() {
  # The whole suite with the second compiler: users building coroutine code are told to
  # prefer clang (README), and each compiler has bugs the other does not.
  configure_and_build clang
  run_ctest clang
}

stage_asan() {
  # The whole suite (examples too: they are programs users copy).
  configure_and_build asan
  run_ctest asan
}

# Test executables the TSan stage builds: the suites that drive one client from several threads
# (files named *concurrency*_test.cpp, the cache's cross-thread single flight and its
# cancellation from several threads, and cached() called from other threads, which shares its
# memo). Building only
# these keeps a third cold build of the whole suite out of CI.
tsan_targets() {
  local source name kind
  for source in tests/*/*concurrency*_test.cpp tests/integration/cache_single_flight_test.cpp \
    tests/integration/cache_flight_cancel_test.cpp tests/integration/cache_cached_test.cpp; do
    [[ -e $source ]] || continue
    kind=$(basename "$(dirname "$source")")
    name=$(basename "$source" .cpp)
    printf '%s_%s\n' "$kind" "$name"
  done
}

stage_tsan() {
  local targets
  mapfile -t targets < <(tsan_targets)
  ((${#targets[@]} > 0)) || skip "no tests/*/*concurrency*_test.cpp yet"
  cmake --preset tsan
  cmake --build --preset tsan --parallel "$CMAKE_BUILD_PARALLEL_LEVEL" --target "${targets[@]}"
  # Prefer ctest and its label (the tsan test preset selects label "concurrency"); while the
  # tests' CMake does not set that label, run the built executables directly.
  local labelled
  labelled=$(ctest --test-dir build/tsan -N -L concurrency 2>/dev/null |
    sed -n 's/^Total Tests: *//p')
  if [[ ${labelled:-0} -gt 0 ]]; then
    run_ctest tsan
    return
  fi
  note "no tests labelled 'concurrency' in CTest: running ${targets[*]} directly"
  export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}
  local target
  for target in "${targets[@]}"; do
    "${no_aslr[@]}" timeout --kill-after=10 "$((test_timeout * 3))" \
      "build/tsan/tests/$target" --gtest_brief=1 2>&1 | tee "$log_dir/tsan-$target.log"
  done
}

# Each fuzz/*_fuzz.cpp target for ASYNCREDIS_FUZZ_SECONDS over a copy of its checked-in corpus
# (fuzz/corpus/<name>/): the corpus grows only by commit, never by a CI run. Any crash, leak,
# sanitizer report, failed property check or input slower than 10 s fails the stage; the
# input is kept under build/fuzz/run/<target>/ (see fuzz/README.md to reproduce it).
stage_fuzz() {
  local seconds=${ASYNCREDIS_FUZZ_SECONDS:-60}
  configure_and_build fuzz
  local source target run rc failed=0
  for source in fuzz/*_fuzz.cpp; do
    target=$(basename "$source" .cpp)
    run=build/fuzz/run/$target
    if [[ ! -d fuzz/corpus/${target%_fuzz} ]]; then
      note "$target has no seed corpus fuzz/corpus/${target%_fuzz}/ (see fuzz/README.md)"
      return 1
    fi
    rm -rf "$run"
    mkdir -p "$run/corpus"
    cp -R "fuzz/corpus/${target%_fuzz}/." "$run/corpus/"
    note "fuzzing $target for ${seconds}s (log: $log_dir/fuzz-$target.log)"
    rc=0
    # libFuzzer's own exit codes include 77, which means "skipped" to this script: map all
    # failures to 1. `timeout` only guards against a fuzzer that ignores -max_total_time.
    "${no_aslr[@]}" timeout --kill-after=30 "$((seconds + 300))" "build/fuzz/fuzz/$target" \
      -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -error_exitcode=1 \
      -timeout_exitcode=1 -print_final_stats=1 -artifact_prefix="$run/" "$run/corpus" \
      >"$log_dir/fuzz-$target.log" 2>&1 || rc=$?
    grep -E '^#[0-9]+[[:space:]]+DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec' \
      "$log_dir/fuzz-$target.log" || true
    if ((rc != 0)); then
      # The finding (the target's own report or the sanitizer's), not libFuzzer's statistics.
      note "$target FAILED (exit $rc):"
      grep -E -A12 "^$target: |ERROR: |runtime error" "$log_dir/fuzz-$target.log" | head -n 60 >&2 || true
      grep -E 'Test unit written to' "$log_dir/fuzz-$target.log" >&2 || true
      failed=1
    fi
  done
  return "$failed"
}

# The build tree a stage reads (none: it needs no tree of its own that a later stage could share).
# The fuzz tree is never pruned: a finding's input is kept in it (build/fuzz/run).
tree_of() {
  case $1 in
    build | test | install) echo build/default ;;
    install-shared | clang | asan | tsan) echo "build/$1" ;;
  esac
}

# After stage number $1 of the run: removes the trees that no later stage reads, saying how
# much disk each took (the logs under build/test-logs stay).
prune_trees_after() {
  local index=$1 tree later needed i
  tree=$(tree_of "${stages[$index]}")
  [[ -n $tree && -d $tree ]] || return 0
  needed=0
  for ((i = index + 1; i < ${#stages[@]}; i++)); do
    later=$(tree_of "${stages[$i]}")
    [[ $later == "$tree" ]] && needed=1
  done
  ((needed == 0)) || return 0
  note "pruning $tree ($(du -sh "$tree" | cut -f1); ASYNCREDIS_PRUNE_BUILDS=0 keeps it)"
  rm -rf "$tree"
}

# --- runner ---------------------------------------------------------------------------------

stages=()
if (($# > 0)); then
  stages=("$@")
elif [[ -n ${ASYNCREDIS_STAGES:-} ]]; then
  read -r -a stages <<<"$ASYNCREDIS_STAGES"
else
  stages=("${DEFAULT_STAGES[@]}")
fi
for stage in "${stages[@]}"; do
  declare -F "stage_$stage" >/dev/null || {
    note "unknown stage '$stage' (stages: ${ALL_STAGES[*]})"
    exit 2
  }
done

mkdir -p "$log_dir"
note "disk before the run: $(df -h --output=avail . | tail -1 | tr -d ' ') free"
declare -A result
summary=()
failed=()
started=$SECONDS
for index in "${!stages[@]}"; do
  stage=${stages[$index]}
  current_stage=$stage
  dependency=${DEPENDS[$stage]:-}
  if [[ -n $dependency && ${result[$dependency]:-} == failed ]]; then
    result[$stage]=skipped
    summary+=("$stage=skipped($dependency failed)")
    failed+=("$stage")  # not run because of a failure: the run cannot pass
    continue
  fi
  say "stage $stage"
  stage_start=$SECONDS
  rm -f "$log_dir/$stage.skip" "$log_dir/$stage.failures"
  set +e
  (
    set -euo pipefail
    "stage_$stage"
  )
  rc=$?
  set -e
  took=$((SECONDS - stage_start))
  duration=$(printf '%dm%02ds' $((took / 60)) $((took % 60)))
  if ((rc == 0)); then
    result[$stage]=ok
    summary+=("$stage=ok($duration)")
  elif ((rc == 77)); then
    result[$stage]=skipped
    summary+=("$stage=skipped($(cat "$log_dir/$stage.skip" 2>/dev/null || echo '?'))")
  else
    result[$stage]=failed
    summary+=("$stage=FAILED($duration)")
    failed+=("$stage")
    note "stage $stage FAILED (exit $rc) after $duration"
  fi
  if [[ $prune_builds == 1 ]]; then prune_trees_after "$index"; fi
done

note "disk after the run: $(df -h --output=avail . | tail -1 | tr -d ' ') free"
total=$((SECONDS - started))
total_text=$(printf '%dm%02ds' $((total / 60)) $((total % 60)))
echo
if ((${#failed[@]} == 0)); then
  echo "test.sh: PASSED in $total_text: ${summary[*]}"
else
  for stage in "${failed[@]}"; do
    if [[ -s $log_dir/$stage.failures ]]; then
      echo "--- what failed in stage $stage (full log: $log_dir/ctest-$stage.log)"
      cat "$log_dir/$stage.failures"
    fi
  done
  echo "test.sh: FAILED (${failed[*]}) in $total_text: ${summary[*]}"
  exit 1
fi
