#!/usr/bin/env bash
# Public headers must stay light (style.md rule 14): no umbrella Asio header, no SSL or socket
# headers, no co_composed. Heavy Asio lives in lib/ translation units.
set -u
root=$1
bad=$(grep -rnE '#include <boost/asio\.hpp>|#include <boost/asio/(ssl|ip/tcp|experimental/co_composed)' "$root" || true)
if [ -n "$bad" ]; then
    echo "public headers include heavy Asio headers:"
    echo "$bad"
    exit 1
fi
echo "header hygiene: ok ($(find "$root" -name '*.hpp' | wc -l) headers)"
