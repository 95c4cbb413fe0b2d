#!/usr/bin/env bash
# Checks that an installed asyncredis is usable by another project, the way a user consumes it:
#   1. cmake --install a build into a fresh temporary prefix;
#   2. configure, build and run tests/install (find_package(asyncredis CONFIG REQUIRED));
#   3. pkg-config --cflags --libs asyncredis resolves, and a program built with only those
#      flags (the README's command), and with --static added, links and runs.
#
# Usage: scripts/check-install.sh [--shared] [BUILD_DIR]
#   BUILD_DIR  an already built tree to install (default: build/default)
#   --shared   first configure and build the library alone with BUILD_SHARED_LIBS=ON into
#              BUILD_DIR (default: build/install-shared), then check that
# Environment: CMAKE_BUILD_PARALLEL_LEVEL (default 2), KEEP_INSTALL_CHECK=1 keeps the prefix.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

say() { printf 'check-install: %s\n' "$*"; }
die() { printf 'check-install: FAIL: %s\n' "$*" >&2; exit 1; }

shared=0
build_dir=
for arg in "$@"; do
  case $arg in
    --shared) shared=1 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    -*) die "unknown option $arg" ;;
    *) build_dir=$arg ;;
  esac
done
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2}

if ((shared)); then
  build_dir=${build_dir:-build/install-shared}
  say "building the shared library in $build_dir"
  # Library only: tests, examples and the benchmark add nothing to an install check.
  mkdir -p "$build_dir"
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_SHARED_LIBS=ON \
    -DASYNCREDIS_BUILD_TESTS=OFF -DASYNCREDIS_BUILD_EXAMPLES=OFF -DASYNCREDIS_BUILD_BENCH=OFF \
    >"$build_dir/configure.log" 2>&1 || { cat "$build_dir/configure.log"; die "configure failed"; }
  cmake --build "$build_dir" --target asyncredis
else
  build_dir=${build_dir:-build/default}
fi
[[ -f $build_dir/CMakeCache.txt ]] || die "$build_dir is not a configured build (run cmake --preset default first)"
# Brings the tree up to date (re-runs CMake if its files changed); a no-op after a build.
cmake --build "$build_dir" --target asyncredis >/dev/null || die "the library in $build_dir does not build"
kind=static
grep -q '^BUILD_SHARED_LIBS:BOOL=ON' "$build_dir/CMakeCache.txt" && kind=shared

work=$(mktemp -d "${TMPDIR:-/tmp}/asyncredis-install.XXXXXX")
cleanup() {
  if [[ ${KEEP_INSTALL_CHECK:-0} == 1 ]]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
prefix=$work/prefix

say "installing $build_dir ($kind library) into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" ||
  { cat "$work/install.log"; die "cmake --install failed (is the library built?)"; }

config=$(find "$prefix" -name asyncredisConfig.cmake -print -quit)
pc=$(find "$prefix" -name asyncredis.pc -print -quit)
[[ -f $prefix/include/asyncredis/asyncredis.hpp ]] || die "headers missing: include/asyncredis/asyncredis.hpp"
[[ -n $config ]] || die "asyncredisConfig.cmake was not installed"
[[ -n $pc ]] || die "asyncredis.pc was not installed"
for f in asyncredisConfigVersion.cmake asyncredisTargets.cmake FindHiredis.cmake; do
  [[ -f $(dirname "$config")/$f ]] || die "$f missing beside asyncredisConfig.cmake"
done
# A package that points back into the source or build tree works here and nowhere else.
leaks=$(find "$prefix" \( -name '*.cmake' -o -name '*.pc' \) -exec cat {} + |
  sed "s|$prefix||g" | grep -F "$root" || true)
[[ -z $leaks ]] || die "installed package files refer to the source or build tree: $leaks"

say "building tests/install against the installed package (find_package CONFIG)"
consumer=$work/consumer
cmake -S tests/install -B "$consumer" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$prefix" >"$work/consumer-configure.log" 2>&1 ||
  { cat "$work/consumer-configure.log"; die "find_package(asyncredis CONFIG REQUIRED) failed"; }
cmake --build "$consumer" || die "the consumer project did not build against the installed package"
output=$("$consumer/install_check") || die "install_check exited with an error"
say "install_check printed: $output"
[[ $output == redis://127.0.0.1:6380* ]] || die "unexpected URL from install_check: '$output'"

say "checking pkg-config"
export PKG_CONFIG_PATH="$(dirname "$pc")${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
# Exactly the README's command, `c++ main.cpp $(pkg-config --cflags --libs asyncredis)`, for
# either kind of library; and --static, which a fully static link adds.
for flags_args in "--cflags --libs" "--cflags --libs --static"; do
  # shellcheck disable=SC2086
  flags=$(pkg-config $flags_args asyncredis) || die "pkg-config $flags_args asyncredis failed"
  say "pkg-config $flags_args asyncredis: $flags"
  [[ $flags == *"-I$prefix/include"* ]] || die "pkg-config Cflags do not point into $prefix"
  # Word splitting of $flags is intended: it is a list of compiler arguments.
  # shellcheck disable=SC2086
  c++ -std=c++20 -o "$work/pc_check" tests/install/main.cpp $flags ||
    die "a program built with \$(pkg-config $flags_args asyncredis) does not compile or link"
  pc_output=$(LD_LIBRARY_PATH="$(dirname "$pc")/..${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$work/pc_check") ||
    die "pc_check exited with an error"
  [[ $pc_output == "$output" ]] || die "pc_check printed '$pc_output', expected '$output'"
done

say "OK ($kind library: CMake package and pkg-config)"
