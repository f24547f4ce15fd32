#!/usr/bin/env bash
# How far the generated sources are from rustfmt's output: lines rustfmt changes / total, per
# crate (changed = lines removed by `diff` between the file and its rustfmt'd copy).
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
total_changed=0
total_lines=0
for crate in generated/*/; do
    name=$(basename "$crate")
    changed=0
    lines=0
    for f in "$crate"src/*.rs; do
        cp "$f" "$tmp/x.rs"
        rustfmt --edition 2024 "$tmp/x.rs"
        n=$(wc -l <"$f")
        c=$(diff "$f" "$tmp/x.rs" | grep -c '^<' || true)
        lines=$((lines + n))
        changed=$((changed + c))
    done
    total_changed=$((total_changed + changed))
    total_lines=$((total_lines + lines))
    awk -v n="$name" -v c="$changed" -v l="$lines" 'BEGIN { printf "%-26s %5d / %5d lines changed (%.2f %%)\n", n, c, l, 100 * c / l }'
done
awk -v c="$total_changed" -v l="$total_lines" 'BEGIN { printf "%-26s %5d / %5d lines changed (%.2f %%)\n", "total", c, l, 100 * c / l }'
