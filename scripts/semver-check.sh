#!/usr/bin/env bash
# On demand (not CI): cargo-semver-checks as an independent judge of the versions `sync` picks.
#  1. every shipped crate against its previous version in git history;
#  2. every compile-proof pair of tests/tests/semver_pairs.rs: the old document generated at
#     1.0.0, the new one at the version sync's bump gives (1.0.1 / 1.1.0 / 2.0.0, so the
#     strict rules of >= 1.0 apply), then `cargo semver-checks --baseline-root`.
# Installs cargo-semver-checks into $GOUVGEN_TOOLS (default ~/.cache/gouvgen-tools) if missing.
# Prints one line per check and exits non-zero if any bump is wrong.
# `scripts/semver-check.sh shipped` or `... pairs` runs one part only.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
tools="${GOUVGEN_TOOLS:-$HOME/.cache/gouvgen-tools}"
export PATH="$tools/cargo/bin:$PATH"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gouvgen-semver/target}"
if ! cargo semver-checks --version >/dev/null 2>&1; then
    echo "installing cargo-semver-checks into $tools/cargo (takes several minutes)"
    cargo install --locked cargo-semver-checks --root "$tools/cargo" || exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
report() { # name verdict detail
    printf '%-44s %-8s %s\n' "$1" "$2" "$3"
    [ "$2" = ok ] || failures=$((failures + 1))
}

part="${1:-all}"
echo "== shipped crates against their previous version in git"
[ "$part" = pairs ] || for dir in generated/*/; do
    dir=${dir%/}
    name=$(basename "$dir")
    now=$(sed -n 's/^version = "\(.*\)"/\1/p' "$dir/Cargo.toml" | head -1)
    # The newest commit whose manifest has another version: the previous release.
    rev=""
    for c in $(git log --format=%H -- "$dir/Cargo.toml"); do
        v=$(git show "$c:$dir/Cargo.toml" 2>/dev/null | sed -n 's/^version = "\(.*\)"/\1/p' | head -1)
        if [ -n "$v" ] && [ "$v" != "$now" ]; then rev=$c; break; fi
    done
    if [ -z "$rev" ]; then report "$name $now" ok "no previous version"; continue; fi
    if out=$(cargo semver-checks check-release -p "$name" --baseline-rev "$rev" 2>&1); then
        report "$name $v -> $now" ok "no violation"
        echo "$out" | grep -E '^ *(Checked|Summary)' | tail -1
    else
        report "$name $v -> $now" FAIL "$(echo "$out" | grep -E '^--- failure|FAIL' | head -3 | tr '\n' ' ')"
    fi
done

if [ "$part" = shipped ]; then echo "failures: $failures"; [ "$failures" = 0 ]; exit; fi
echo "== compile-proof pairs"
pairs="$work/pairs"
GOUVGEN_SEMVER_PAIRS_OUT="$pairs" cargo test -q -p gouvgen-tests --test semver_pairs >/dev/null 2>&1 \
    || echo "(the compile-proof test failed; checking the pairs it exported anyway)"
cargo build -q --release -p gouvgen-cli
gouvgen="$CARGO_TARGET_DIR/release/gouvgen"
gen() { # doc out version
    "$gouvgen" generate "$1" --out "$2" --crate-name semver-pair --crate-version "$3" \
        --runtime-path "$root/runtime" --force >/dev/null 2>&1
}
for bumpfile in "$pairs"/*.bump; do
    [ -e "$bumpfile" ] || { report pairs FAIL "no pair exported"; break; }
    name=$(basename "$bumpfile" .bump)
    bump=$(cat "$bumpfile")
    case "$bump" in
        none) version=1.0.0 ;; patch) version=1.0.1 ;; minor) version=1.1.0 ;; major) version=2.0.0 ;;
    esac
    gen "$pairs/$name.old.json" "$work/old/$name" 1.0.0 || { report "$name" FAIL "old does not generate"; continue; }
    gen "$pairs/$name.new.json" "$work/new/$name" "$version" || { report "$name" FAIL "new does not generate"; continue; }
    for d in "$work/old/$name" "$work/new/$name"; do
        grep -q '^\[workspace\]' "$d/Cargo.toml" || printf '\n[workspace]\n' >>"$d/Cargo.toml"
    done
    if out=$(cargo semver-checks check-release --manifest-path "$work/new/$name/Cargo.toml" \
        --baseline-root "$work/old/$name" 2>&1); then
        report "$name ($bump: 1.0.0 -> $version)" ok "no violation"
    else
        report "$name ($bump: 1.0.0 -> $version)" FAIL "$(echo "$out" | grep -E '^--- failure' | head -3 | tr '\n' ' ')"
    fi
done
echo "failures: $failures"
[ "$failures" = 0 ]
