#!/usr/bin/env bash
# Proves README.md's "Using Fx in your own repository" section: packs the library, creates a fresh project in a
# temporary directory exactly as the section says (its install commands and the files it marks with
# `<!-- consumer-file: PATH -->`, the snippet verbatim), and runs `cdk synth` with no AWS credentials.
# Exits non-zero when any step or the synth fails.
#
# The package comes from, in order: $FX_PACKAGE_TGZ (a tarball), dist/js/*.tgz (the build's package),
# `npm pack` of $FX_PACKAGE_DIR, or `npm pack` of the repository (needs the compiled lib/: run the build first).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
# FX_README: another README to prove (the negative check uses a copy whose context does not match the snippet).
readme="${FX_README:-$repo/README.md}"
work="$(mktemp -d "${TMPDIR:-/tmp}/fx-consumer-XXXXXX")"
keep="${FX_KEEP_CONSUMER:-}"
cleanup() { if [ -z "$keep" ]; then rm -rf "$work"; else echo "consumer project kept in $work"; fi; }
trap cleanup EXIT
start=$(date +%s)

fail() { echo "consumer-smoke: $*" >&2; exit 1; }

# 1. the package
tgz="${FX_PACKAGE_TGZ:-}"
if [ -z "$tgz" ]; then
  shopt -s nullglob
  built=("$repo"/dist/js/*.tgz)
  shopt -u nullglob
  if [ "${#built[@]}" -gt 0 ]; then
    tgz="${built[0]}"
  else
    pkgdir="${FX_PACKAGE_DIR:-$repo}"
    [ -f "$pkgdir/lib/index.js" ] || fail "no $pkgdir/lib/index.js: compile the library first (the build's compile step), or set FX_PACKAGE_TGZ"
    mkdir -p "$work/pack"
    (cd "$pkgdir" && npm pack --silent --pack-destination "$work/pack" >/dev/null)
    tgz="$(ls "$work"/pack/*.tgz | head -n 1)"
  fi
fi
[ -f "$tgz" ] || fail "package tarball $tgz not found"
echo "consumer-smoke: package $(basename "$tgz")"

# 2. the README section: install commands and files
section="$(awk '/^## Using Fx in your own repository/{on=1; print; next} on && /^## /{exit} on{print}' "$readme")"
[ -n "$section" ] || fail "README.md has no '## Using Fx in your own repository' section"

install_cmds="$(printf '%s\n' "$section" | awk '/<!-- consumer-install -->/{want=1; next} want && /^```/{if (inblock) exit; inblock=1; next} inblock{print}')"
[ -n "$install_cmds" ] || fail "no <!-- consumer-install --> block in the README section"

project="$work/project"
mkdir -p "$project"
files=0
while IFS= read -r target; do
  body="$(printf '%s\n' "$section" | awk -v t="$target" '
    index($0, "<!-- consumer-file: " t " -->") == 1 {want=1; next}
    want && /^<!-- consumer-snippet:(start|end) -->$/ {next}
    want && /^```/ {if (inblock) exit; inblock=1; next}
    inblock {print}')"
  [ -n "$body" ] || fail "README block for $target is empty"
  mkdir -p "$project/$(dirname "$target")"
  printf '%s\n' "$body" > "$project/$target"
  files=$((files + 1))
done < <(printf '%s\n' "$section" | sed -n 's/^<!-- consumer-file: \(.*\) -->$/\1/p')
[ "$files" -ge 4 ] || fail "expected cdk.json, cdk.context.json, tsconfig.json and the snippet; found $files file blocks"

# The snippet must be the one between the markers, verbatim.
snippet="$(printf '%s\n' "$section" | awk '/^<!-- consumer-snippet:start -->$/{on=1; next} /^<!-- consumer-snippet:end -->$/{exit} on && !/^```/{print}')"
[ -n "$snippet" ] || fail "no consumer-snippet markers in the README section"
grep -qxF "$(printf '%s\n' "$snippet" | head -n 1)" "$project/bin/platform.ts" || fail "bin/platform.ts is not the README snippet"

# 3. install (the README's commands, with the package name replaced by the tarball)
cd "$project"
while IFS= read -r cmd; do
  [ -z "$cmd" ] && continue
  cmd="${cmd//@fx-orleans\/platform/$tgz}"
  case "$cmd" in npm\ install*) cmd="$cmd --no-audit --no-fund --loglevel=error" ;; esac
  echo "consumer-smoke: $cmd"
  bash -c "$cmd" > "$work/install.log" 2>&1 || { tail -n 30 "$work/install.log" >&2; fail "install failed: $cmd"; }
done <<< "$install_cmds"

# 4. synth with no AWS credentials, no profile, no instance metadata
echo "consumer-smoke: cdk synth (no AWS credentials)"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN -u AWS_PROFILE -u AWS_DEFAULT_PROFILE \
  AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null CDK_DISABLE_VERSION_CHECK=1 \
  npx cdk synth --quiet --no-notices > "$work/synth.log" 2>&1 || { tail -n 40 "$work/synth.log" >&2; fail "cdk synth failed"; }
template="$project/cdk.out/FxPlatform.template.json"
[ -s "$template" ] || fail "cdk synth wrote no $template"
node -e '
  const t = require(process.argv[1]);
  const resources = Object.values(t.Resources || {});
  if (!resources.some((r) => r.Type === "AWS::EKS::Cluster")) process.exit(1);
  console.log(`consumer-smoke: FxPlatform.template.json, ${resources.length} resources`);
' "$template" || fail "the synthesized template has no EKS cluster"
echo "consumer-smoke: ok in $(( $(date +%s) - start )) s"
