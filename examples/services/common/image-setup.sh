#!/bin/sh
# Shared first build step of the services' images (see their Dockerfiles):
#
#   image-setup.sh <debian-packages.txt> <service-name>
#   image-setup.sh --check <debian-packages.txt>
#
# The list names one Debian bookworm package per line, pinned as
# name=version ('#' starts a comment). It is the same list the service's
# run-tests.sh brings the test machine to before running the suite, so the
# image ships the versions the tests ran on.
#
# Build mode refuses an unpinned or malformed entry, installs exactly the
# pinned versions (apt-get fails when the archive no longer has one), checks
# what dpkg installed against the pins, records the versions in
# /usr/share/<service-name>/debian-packages.versions and every package of
# the image in /usr/share/<service-name>/dpkg-manifest, and creates the
# unprivileged user the image runs as (uid/gid 10001, no home, no shell).
# --check only validates the list (no root, no network): exit 1 on a bad entry.
set -eu

# entries LIST: the list's entries, one a line, without comments or blanks.
entries() {
  sed -e 's/#.*//' -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$1"
}

# check_list LIST: every entry is name=version with Debian's characters for both.
check_list() {
  bad="$(entries "$1" | grep -Ev '^[a-z0-9][a-z0-9+.-]+=[0-9][A-Za-z0-9.+~:-]*$' || true)"
  if [ -n "$bad" ]; then
    printf 'image-setup: %s: not pinned as name=version:\n' "$1" >&2
    printf '  %s\n' $bad >&2
    return 1
  fi
  dup="$(entries "$1" | cut -d= -f1 | sort | uniq -d)"
  if [ -n "$dup" ]; then
    printf 'image-setup: %s: listed more than once: %s\n' "$1" "$(echo $dup)" >&2
    return 1
  fi
  [ -n "$(entries "$1")" ] || { printf 'image-setup: %s: no packages\n' "$1" >&2; return 1; }
}

if [ "${1:-}" = --check ]; then
  [ $# -eq 2 ] || { echo "usage: image-setup.sh --check <debian-packages.txt>" >&2; exit 2; }
  check_list "$2"
  exit 0
fi
[ $# -eq 2 ] || { echo "usage: image-setup.sh <debian-packages.txt> <service-name>" >&2; exit 2; }
list="$1"
name="$2"
check_list "$list"
pins="$(entries "$list")"
names="$(echo "$pins" | cut -d= -f1)"

set -x
apt-get update
# shellcheck disable=SC2086 # one word per pin
apt-get install -y --no-install-recommends $pins
apt-get clean
rm -rf /var/lib/apt/lists/*
set +x

mkdir -p "/usr/share/$name"
# shellcheck disable=SC2086
dpkg-query -W -f='${Package}=${Version}\n' $names >"/usr/share/$name/debian-packages.versions"
dpkg-query -W -f='${Package}=${Version}\n' >"/usr/share/$name/dpkg-manifest"
echo "$pins" | sort >/tmp/image-setup.wanted
sort "/usr/share/$name/debian-packages.versions" >/tmp/image-setup.installed
mismatch="$(comm -23 /tmp/image-setup.wanted /tmp/image-setup.installed)"
rm -f /tmp/image-setup.wanted /tmp/image-setup.installed
if [ -n "$mismatch" ]; then
  printf 'image-setup: installed versions differ from the pins; wanted:\n' >&2
  printf '  %s\n' $mismatch >&2
  exit 1
fi
cat "/usr/share/$name/debian-packages.versions"

groupadd --system --gid 10001 app
useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin app
