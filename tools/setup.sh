#!/usr/bin/env bash
# corocket set-up for Debian bookworm: installs the packages the project needs (only the missing
# ones), then builds and runs one of:
#   tools/setup.sh demo [args]   optimised build, then the demo (producer + transactional producer
#                                + consumer) against the embedded broker (or --namesrv host:port)
#   tools/setup.sh test          the whole test suite, twice: g++-12 with ASan+UBSan, and clang-16
#                                optimised; ends with one "N passed, N failed" line
#   tools/setup.sh deps          only the packages
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++-12 clang-16 libboost1.81-dev libssl-dev zlib1g-dev libfmt-dev catch2 meson ninja-build pkg-config)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_deps() {
    local missing=() p
    for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
    ((${#missing[@]})) || return 0
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo=sudo
    echo "corocket: installing ${missing[*]}"
    $sudo apt-get update -qq
    # Debian's default Boost (1.74) lacks what C++20 Asio code needs, and its -dev package
    # conflicts with libboost1.81-dev: remove it in the same transaction (the trailing '-').
    local remove=()
    installed libboost1.74-dev && remove+=(libboost1.74-dev-)
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" "${remove[@]}" >/dev/null
}

# configure DIR CXX [meson options...]: set up once, reconfigure when it exists.
configure() {
    local dir=$1 cxx=$2
    shift 2
    if [ -f "$dir/build.ninja" ]; then
        meson configure "$dir" "$@" >/dev/null
    else
        CXX=$cxx meson setup "$dir" "$@" >/dev/null
    fi
}

run_demo() {
    configure build/release g++-12 -Dbuildtype=release -Dtests=false -Dbench=false
    ninja -C build/release examples/demo
    ./build/release/examples/demo "$@"
}

# run_suite DIR: runs the suite of one build; appends "passed failed" to $tally.
run_suite() {
    local dir=$1 rc=0
    meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
    python3 - "$dir/meson-logs/testlog.json" >>"$tally" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line).get("result")
    if r in ("OK", "EXPECTEDFAIL", "SKIP"): ok += 1
    else: bad += 1
print(ok, bad)
PY
    return $rc
}

run_tests() {
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    tally=$(mktemp)
    local status=0
    configure build/gcc-asan g++-12 -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false
    ninja -C build/gcc-asan
    run_suite build/gcc-asan || status=1
    configure build/clang clang++-16 -Dbuildtype=release
    ninja -C build/clang
    run_suite build/clang || status=1
    awk '{p += $1; f += $2} END {printf "%d passed, %d failed\n", p, f}' "$tally"
    rm -f "$tally"
    return $status
}

install_deps
case "${1:-test}" in
    deps) ;;
    demo) shift; run_demo "$@" ;;
    test) run_tests ;;
    *) echo "usage: tools/setup.sh demo [--namesrv host:port] | test | deps" >&2; exit 2 ;;
esac
