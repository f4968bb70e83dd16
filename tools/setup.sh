#!/usr/bin/env bash
# corocket set-up for Debian bookworm: installs the packages the project needs (only the missing
# ones), then builds and runs one of:
#   tools/setup.sh demo [args]   optimised build, then the demo (producer + transactional producer
#                                + consumer) against the embedded broker (or --namesrv host:port)
#   tools/setup.sh test          the whole test suite: g++-12 with ASan+UBSan and clang-16 optimised
#                                on the embedded broker, then the integration suites, the examples and
#                                the ACL and TLS tests against real Apache RocketMQ 4.9.7 brokers
#                                (tools/rocketmq/cluster.sh); one "stage NAME: N passed, N failed"
#                                line per stage, then one "N passed, N failed" line for them all
#   tools/setup.sh test-5x       the real-broker stage alone, against Apache RocketMQ 5.3.3
#   tools/setup.sh deps          only the packages
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(g++-12 clang-16 libboost1.81-dev libssl-dev zlib1g-dev liblz4-dev libzstd-dev libfmt-dev catch2 meson
    ninja-build pkg-config)
# Only the tests need these: the real NameServer/Broker and the Java interop peer run on a JDK, and
# Maven fetches them from Maven Central.
test_packages=(openjdk-17-jdk-headless maven)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

install_deps() {
    local missing=() p
    for p in "$@"; do installed "$p" || missing+=("$p"); done
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

# meson_test DIR [args...]: one `meson test` run; appends "passed failed" (counted per test
# program, from meson's log) to $stage_tally.
meson_test() {
    local dir=$1 rc=0
    shift
    meson test -C "$dir" --no-rebuild --print-errorlogs --num-processes 2 "$@" || rc=$?
    python3 - "$dir/meson-logs/testlog.json" >>"$stage_tally" <<'PY'
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

# begin_stage, then end_stage NAME: prints the stage's line and adds its counts to $tally.
begin_stage() { stage_tally=$(mktemp); stage_start=$SECONDS; }
end_stage() {
    local line
    echo "stage $1 took $((SECONDS - stage_start)) s"
    line=$(awk -v name="$1" '{p += $1; f += $2} END {printf "stage %s: %d passed, %d failed\n", name, p, f}' "$stage_tally")
    echo "$line" | tee -a "$stage_lines"
    cat "$stage_tally" >>"$tally"
    rm -f "$stage_tally"
}
stage_failed() { echo "0 1" >>"$stage_tally"; }  # a step that could not run counts as one failure

# build_suite NAME DIR CXX [meson options...]: builds, then runs the whole suite as one stage.
build_suite() {
    local name=$1 dir=$2 cxx=$3 status=0
    shift 3
    begin_stage
    configure "$dir" "$cxx" "$@"
    if ninja -C "$dir"; then
        meson_test "$dir" || status=1
    else
        stage_failed
        status=1
    fi
    end_stage "$name"
    return $status
}

rocketmq() { bash tools/rocketmq/cluster.sh "$@"; }

# start_cluster NAME [cluster.sh options...]: prints the cluster's name server address.
start_cluster() {
    local name=$1
    shift
    rocketmq start --name "$name" "$@" | sed -n 's/^COROCKET_NAMESRV=//p'
}

# The real clusters' ports stay below Linux's ephemeral range (32768-60999), where an outgoing
# connection's local port could already hold them.
# real_stage VERSION: real NameServer + Broker pairs of that release (plain, TLS, and ACL on 4.x)
# on ports of their own; the integration suites and every example against the plain one, the
# [acl] and [tls] tests against the others, all with the clang build. 5.3 brokers ignore the
# plain_acl.yml of ACL 1.0 (they authenticate with ACL 2.0's users), so 5.x runs no [acl] tests.
real_stage() {
    local version=$1 status=0 dir=build/clang ns="" acl="" tls="" n
    local names=("real-$version" "real-$version-tls")
    [[ $version == 4.* ]] && names+=("real-$version-acl")
    begin_stage
    if ns=$(start_cluster "${names[0]}" --version "$version" --ports 29876,30911) &&
        tls=$(start_cluster "${names[1]}" --version "$version" --ports 29896,30931 --tls) &&
        { [ ${#names[@]} -eq 2 ] || acl=$(start_cluster "${names[2]}" --version "$version" --ports 29886,30921 --acl); }; then
        local integration=(producer consumer)
        [ -x "$dir/tests/interop/interop_tests" ] && integration+=(interop)
        COROCKET_NAMESRV=$ns meson_test "$dir" "${integration[@]}" || status=1
        COROCKET_NAMESRV=$ns meson_test "$dir" --suite examples || status=1
        COROCKET_TLS_NAMESRV=$tls meson_test "$dir" producer consumer --test-args '[tls]' || status=1
        [ -z "$acl" ] || COROCKET_ACL_NAMESRV=$acl meson_test "$dir" producer consumer --test-args '[acl]' || status=1
    else
        echo "real-$version: a RocketMQ $version cluster did not start" >&2
        stage_failed
        status=1
    fi
    for n in "${names[@]}"; do rocketmq stop --name "$n" || true; done
    end_stage "real-$version"
    return $status
}

# run_stages STAGE...: each stage's line as it ends, then all of them again and the total.
run_stages() {
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    tally=$(mktemp)
    stage_lines=$(mktemp)
    local status=0 stage
    for stage in "$@"; do
        case "$stage" in
            gcc-asan) build_suite gcc-asan build/gcc-asan g++-12 -Dbuildtype=debug \
                          -Db_sanitize=address,undefined -Db_lundef=false || status=1 ;;
            clang) build_suite clang build/clang clang++-16 -Dbuildtype=release || status=1 ;;
            real-*) real_stage "${stage#real-}" || status=1 ;;
        esac
    done
    echo
    cat "$stage_lines"
    awk '{p += $1; f += $2} END {printf "%d passed, %d failed\n", p, f}' "$tally"
    rm -f "$tally" "$stage_lines"
    return $status
}

case "${1:-test}" in
    deps) install_deps "${packages[@]}" "${test_packages[@]}" ;;
    demo) install_deps "${packages[@]}"; shift; run_demo "$@" ;;
    test) install_deps "${packages[@]}" "${test_packages[@]}"; run_stages gcc-asan clang real-4.9.7 ;;
    test-5x)
        install_deps "${packages[@]}" "${test_packages[@]}"
        configure build/clang clang++-16 -Dbuildtype=release
        ninja -C build/clang
        run_stages real-5.3.3 ;;
    *) echo "usage: tools/setup.sh demo [--namesrv host:port] | test | test-5x | deps" >&2; exit 2 ;;
esac
