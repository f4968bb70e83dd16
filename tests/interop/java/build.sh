#!/usr/bin/env bash
# Builds the Java peer into OUT (tests/interop/java/build.sh OUT): resolves the classpath of
# pom.xml with Maven once (again only when pom.xml changes), compiles the sources with javac when
# one is newer than the last build, and prints the classpath to run the peer with.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUTDIR}
mkdir -p "$out"

command -v mvn >/dev/null || { echo "build.sh: no mvn on PATH" >&2; exit 1; }
command -v javac >/dev/null || { echo "build.sh: no javac on PATH" >&2; exit 1; }

if [ ! -s "$out/classpath.txt" ] || [ "$here/pom.xml" -nt "$out/classpath.txt" ]; then
    mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$out/classpath.txt" \
        >"$out/mvn.log" 2>&1 || { cat "$out/mvn.log" >&2; rm -f "$out/classpath.txt"; exit 1; }
fi

sources=$(find "$here/src/main/java" -name '*.java')
stamp="$out/classes/.built"
# shellcheck disable=SC2086 # the source paths have no spaces
if [ ! -f "$stamp" ] || [ -n "$(find $sources "$out/classpath.txt" -newer "$stamp")" ]; then
    rm -rf "$out/classes"
    mkdir -p "$out/classes"
    javac --release 17 -encoding UTF-8 -d "$out/classes" -cp "$(cat "$out/classpath.txt")" $sources \
        >"$out/javac.log" 2>&1 || { cat "$out/javac.log" >&2; exit 1; }
    touch "$stamp"
fi
echo "$out/classes:$(cat "$out/classpath.txt")"
