#!/usr/bin/env bash
# A real Apache RocketMQ NameServer + Broker on loopback, from the jars on Maven Central: the
# ground truth the integration tests run against (tools/setup.sh test starts it for the real-broker
# stage). One cluster per --name, each in its own folder with its own ports.
#
#   tools/rocketmq/cluster.sh start  [options]   starts (after stopping one of the same name), waits
#                                                until the broker has registered, prints its
#                                                COROCKET_NAMESRV=host:port
#   tools/rocketmq/cluster.sh stop   [--name N]  stops it by pid
#   tools/rocketmq/cluster.sh status [--name N]  says whether it runs, and where
#
# Options:
#   --name N          cluster name and folder (default main): build/rocketmq/N
#   --version V       Apache RocketMQ release (default 4.9.7; 5.3.3 for 5.x)
#   --ports NS,BROKER NameServer and broker listen ports (default 9876,10911); the broker also
#                     binds BROKER-2 (its VIP channel) and BROKER+1 (HA)
#   --acl             aclEnable=true with tools/rocketmq/plain_acl.yml (accounts in that file)
#   --tls             both servers accept TLS only (tls.server.mode=enforcing), with the test
#                     certificate in tests/data/tls (signed by tests/data/tls/ca.pem)
#   --keep-store      keep the previous store (the default starts from an empty one)
#   --dir D           the parent folder instead of build/rocketmq
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)

die() { echo "cluster.sh: $*" >&2; exit 1; }

cmd=${1:-}; [ $# -gt 0 ] && shift
name=main version=4.9.7 ns_port=9876 broker_port=10911 acl=false tls=false keep=false parent="$top/build/rocketmq"
while [ $# -gt 0 ]; do
    case "$1" in
        --name) name=$2; shift 2 ;;
        --version) version=$2; shift 2 ;;
        --ports) ns_port=${2%,*}; broker_port=${2#*,}; shift 2 ;;
        --acl) acl=true; shift ;;
        --tls) tls=true; shift ;;
        --keep-store) keep=true; shift ;;
        --dir) parent=$2; shift 2 ;;
        *) die "unknown option $1 (see the header of $0)" ;;
    esac
done
dir="$parent/$name"

alive() { [ -f "$dir/$1.pid" ] && kill -0 "$(cat "$dir/$1.pid")" 2>/dev/null; }

stop_one() {
    local role=$1 pid i
    alive "$role" || { rm -f "$dir/$role.pid"; return 0; }
    pid=$(cat "$dir/$role.pid")
    kill "$pid" 2>/dev/null || true
    for i in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$dir/$role.pid"
}

# The classpath of the servers and tools of $version, resolved once per version.
classpath() {
    local cp="$parent/classpath-$version.txt"
    if [ ! -s "$cp" ]; then
        mkdir -p "$parent"
        mvn -q -B -f "$here/pom.xml" -Drocketmq.version="$version" \
            dependency:build-classpath -Dmdep.outputFile="$cp" >"$parent/mvn-$version.log" 2>&1 ||
            { cat "$parent/mvn-$version.log" >&2; die "mvn could not resolve RocketMQ $version"; }
    fi
    cat "$cp"
}

# What JDK 17 needs opened for RocketMQ's reflective buffer cleaning and Netty.
jvm_flags=(-server -XX:+UseG1GC -XX:-OmitStackTraceInFastThrow -Djava.net.preferIPv4Stack=true
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED)

tls_flags() {
    $tls || return 0
    local data="$top/tests/data/tls"
    echo "-Dtls.test.mode.enable=false -Dtls.server.mode=enforcing -Dtls.server.need.client.auth=none" \
         "-Dtls.server.certPath=$data/server.pem -Dtls.server.keyPath=$data/server.key" \
         "-Dtls.enable=true -Dtls.client.authServer=true -Dtls.client.trustCertPath=$data/ca.pem" \
         "-Dtls.config.file=$dir/no-tls.properties"
}

write_logback() {  # write_logback ROLE: the config BrokerStartup/NamesrvStartup 4.9 insist on
    cat >"$dir/home/conf/logback_$1.xml" <<EOF
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$dir/$1.log</file>
    <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{20} - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
}

write_config() {
    mkdir -p "$dir/home/conf"
    write_logback namesrv
    write_logback broker
    cat >"$dir/namesrv.properties" <<EOF
listenPort=$ns_port
EOF
    cat >"$dir/broker.properties" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-a
brokerId=0
brokerIP1=127.0.0.1
namesrvAddr=127.0.0.1:$ns_port
listenPort=$broker_port
storePathRootDir=$dir/store
storePathCommitLog=$dir/store/commitlog
autoCreateTopicEnable=true
autoCreateSubscriptionGroup=true
enablePropertyFilter=true
traceTopicEnable=true
brokerRole=ASYNC_MASTER
flushDiskType=ASYNC_FLUSH
mapedFileSizeCommitLog=67108864
mappedFileSizeCommitLog=67108864
mapedFileSizeConsumeQueue=300000
mappedFileSizeConsumeQueue=300000
diskMaxUsedSpaceRatio=95
transactionCheckInterval=5000
transactionTimeOut=3000
# Every delay level 1 s (the default runs 1s 5s 10s 30s 1m ... 2h): retries, which a broker delays
# by level 3 + reconsumeTimes, reach the DLQ in seconds instead of hours.
messageDelayLevel=1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s 1s
aclEnable=$acl
EOF
    if $acl; then cp "$here/plain_acl.yml" "$dir/home/conf/plain_acl.yml"; fi
    : >"$dir/no-tls.properties"
}

# start_java ROLE MAIN HEAP ARGS...: one server in the background, its pid in ROLE.pid.
start_java() {
    local role=$1 main=$2 heap=$3
    shift 3
    # shellcheck disable=SC2046 # tls_flags is a list of -D words without spaces
    ROCKETMQ_HOME="$dir/home" nohup java "${jvm_flags[@]}" -Xms"$heap" -Xmx"$heap" $(tls_flags) \
        -Drocketmq.home.dir="$dir/home" -Duser.home="$dir/home" \
        -cp "$(classpath)" "$main" "$@" >"$dir/$role.out" 2>&1 </dev/null &
    echo $! >"$dir/$role.pid"
}

# wait_for ROLE PATTERN: until the server prints PATTERN, or fail with its output.
wait_for() {
    local role=$1 pattern=$2 i
    for i in $(seq 1 240); do
        grep -q "$pattern" "$dir/$role.out" 2>/dev/null && return 0
        alive "$role" || { cat "$dir/$role.out" >&2; die "the $role of '$name' exited (output above)"; }
        sleep 0.5
    done
    cat "$dir/$role.out" >&2
    die "the $role of '$name' did not start within 120 s"
}

start() {
    command -v java >/dev/null || die "no java on PATH (tools/setup.sh deps installs a JDK)"
    command -v mvn >/dev/null || die "no mvn on PATH (tools/setup.sh deps installs Maven)"
    stop_one broker
    stop_one namesrv
    mkdir -p "$dir"
    $keep || rm -rf "$dir/store"
    write_config
    classpath >/dev/null
    echo "$version" >"$dir/version"
    echo "127.0.0.1:$ns_port" >"$dir/namesrv"
    start_java namesrv org.apache.rocketmq.namesrv.NamesrvStartup 256m -c "$dir/namesrv.properties"
    wait_for namesrv "boot success"
    start_java broker org.apache.rocketmq.broker.BrokerStartup 512m -c "$dir/broker.properties"
    # BrokerStartup prints this only after its first, synchronous registration with the NameServer.
    wait_for broker "boot success"
    echo "COROCKET_NAMESRV=127.0.0.1:$ns_port"
}

status() {
    if alive namesrv && alive broker; then
        echo "$name: RocketMQ $(cat "$dir/version") running, COROCKET_NAMESRV=$(cat "$dir/namesrv")"
    else
        echo "$name: not running"
        return 1
    fi
}

case "$cmd" in
    start) start ;;
    stop) stop_one broker; stop_one namesrv ;;
    status) status ;;
    *) die "usage: cluster.sh start|stop|status [options] (see the header of $0)" ;;
esac
