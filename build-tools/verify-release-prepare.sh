#!/usr/bin/env bash
# Proves the semantic-release prepare step: in a throw-away copy of the working tree it runs the exact
# prepareCmd from .releaserc.json with a test version, then checks that the jsii assembly, the compiled
# library (the fx:version tag) and the npm tarball carry that version.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=99.88.77-verify
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# copy the tree (node_modules linked, not copied) so the real checkout is untouched
tar -C "$root" --exclude=./node_modules --exclude=./cdk.out --exclude=./cdk.out.dev --exclude=./cdk.out.cluster --exclude=./dist --exclude=./.git -cf - . | tar -C "$work" -xf -
ln -s "$root/node_modules" "$work/node_modules"

cmd=$(node -e '
  const rc = require(process.argv[1]);
  const exec = rc.plugins.find((p) => Array.isArray(p) && p[0] === "@semantic-release/exec");
  if (!exec || !exec[1].prepareCmd) { console.error("no @semantic-release/exec prepareCmd in .releaserc.json"); process.exit(1); }
  process.stdout.write(exec[1].prepareCmd.replace("${nextRelease.version}", process.argv[2]));
' "$work/.releaserc.json" "$version")
echo "release:verify: running prepare step: $cmd"
(cd "$work" && bash -c "$cmd" > "$work/prepare.log" 2>&1) || { tail -40 "$work/prepare.log"; exit 1; }

fail() { echo "release:verify: FAIL: $*"; exit 1; }
jsii_version=$(node -p "JSON.parse(require('fs').readFileSync('$work/.jsii', 'utf8')).version")
[ "$jsii_version" = "$version" ] || fail ".jsii version is $jsii_version, expected $version"
lib_version=$(cd "$work" && node -p "require('./lib/core/tags').LIBRARY_VERSION")
[ "$lib_version" = "$version" ] || fail "compiled library reports version $lib_version, expected $version"
ls "$work"/dist/js/*@"$version".jsii.tgz > /dev/null 2>&1 || fail "no npm tarball for $version in dist/js"
echo "release:verify: OK: prepare step rebuilt the assembly (.jsii $jsii_version), the library version tag and the tarball"
