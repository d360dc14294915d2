#!/usr/bin/env bash
# Build the services' base image from Debian's archive, with no registry:
#
#   FX_STORE=... FX_RUNROOT=... build-base.sh [NAME]
#   build-base.sh --print-sources     # the suite -> mirror choice, then exit
#
# debootstrap --variant=minbase bookworm from the mirror this machine's apt is
# configured with, upgraded from the bookworm, bookworm-updates and
# bookworm-security suites configured here (what the Docker Hub image carries
# too), then committed into the podman store FX_STORE as NAME (default
# localhost/fx-debian-bookworm). Prints the reference pinned by digest,
# NAME@sha256:..., on stdout: the services' Dockerfiles build FROM it through
# --build-arg BASE_IMAGE.
#
# Reproducible digest: the root file system is packed into a tarball with
# sorted names, numeric owners and every mtime clamped to the archive's
# Release date; the image is committed with that same date as its timestamp.
# So one tarball always gives one digest, and two debootstraps of the same
# archive state give the same tarball (up to what the packages' own
# maintainer scripts vary). The archive moves with every point release and
# security update, so the digest is computed at build time, never hard-coded.
#
# The tarball is cached in FX_IMAGES_CACHE (default /var/cache/fx-images) for
# FX_BASE_MAX_AGE_DAYS days (default 7) to make reruns faster; a missing,
# stale, corrupt or unwritable cache only means a fresh debootstrap.
# FX_IMAGES_NO_CACHE=1 ignores the cache.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SUITE=bookworm
APT_ETC="${FX_APT_ETC:-/etc/apt}"   # another directory only in tests
CACHE_DIR="${FX_IMAGES_CACHE:-/var/cache/fx-images}"
MAX_AGE_DAYS="${FX_BASE_MAX_AGE_DAYS:-7}"
ARCH="$(dpkg --print-architecture)"
CACHED_TAR="$CACHE_DIR/debian-$SUITE-$ARCH-minbase.tar"

# apt_uri SUITE: the first deb URI this machine's apt configuration gives for
# SUITE (deb822 .sources files and one-line .list files), or nothing.
apt_uri() {
  local suite="$1" f
  for f in "$APT_ETC"/sources.list.d/*.sources; do
    [[ -f "$f" ]] || continue
    awk -v want="$suite" '
      BEGIN { RS = ""; FS = "\n" }
      {
        types = ""; uris = ""; suites = ""; enabled = "yes"
        for (i = 1; i <= NF; i++) {
          line = $i; sub(/#.*/, "", line)
          if (line ~ /^Types:/) types = line
          else if (line ~ /^URIs:/) uris = line
          else if (line ~ /^Suites:/) suites = line
          else if (line ~ /^Enabled:/) enabled = tolower(line)
        }
        if (enabled ~ /no/ || types !~ /(^|[ \t])deb([ \t]|$)/) next
        n = split(suites, s, /[ \t]+/)
        for (i = 2; i <= n; i++) if (s[i] == want) {
          split(uris, u, /[ \t]+/); print u[2]; exit
        }
      }' "$f"
  done
  for f in "$APT_ETC"/sources.list "$APT_ETC"/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v want="$suite" '$1 == "deb" && $3 == want { print $2 }'
  done
}

first_uri() { apt_uri "$1" | awk 'NF { print; exit }'; }

MIRROR="$(first_uri "$SUITE")"
if [[ -z "$MIRROR" ]]; then
  printf "fx-images: no 'deb ... %s' source in %s: cannot choose a Debian mirror\n" "$SUITE" "$APT_ETC" >&2
  exit 1
fi
if [[ "${1:-}" == --print-sources ]]; then
  for suite in "$SUITE" "$SUITE-updates" "$SUITE-security"; do
    printf '%s %s\n' "$suite" "$(first_uri "$suite")"
  done
  exit 0
fi

# shellcheck source=podman-lib.sh
source "$HERE/podman-lib.sh"   # pm, bh, fx_log
NAME="${1:-localhost/fx-debian-bookworm}"

# cache_ok: the cached tarball exists, matches its checksum, was built from
# the same mirror and is younger than MAX_AGE_DAYS.
cache_ok() {
  [[ "${FX_IMAGES_NO_CACHE:-0}" != 1 && -f "$CACHED_TAR" && -f "$CACHED_TAR.sha256" && -f "$CACHED_TAR.info" ]] \
    || return 1
  [[ -n "$(find "$CACHED_TAR" -mtime "-$MAX_AGE_DAYS" 2>/dev/null)" ]] || { fx_log "cached base older than $MAX_AGE_DAYS days"; return 1; }
  grep -qxF "mirror=$MIRROR" "$CACHED_TAR.info" || { fx_log "cached base is from another mirror"; return 1; }
  (cd "$CACHE_DIR" && sha256sum --quiet -c "$(basename "$CACHED_TAR").sha256") >/dev/null 2>&1 \
    || { fx_log "cached base fails its checksum"; return 1; }
}

WORK="$(mktemp -d /var/tmp/fx-base.XXXXXX)"
cleanup() {
  local rc=$?
  mountpoint -q "$WORK/rootfs/proc" 2>/dev/null && umount "$WORK/rootfs/proc"
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

debootstrap_tarball() {
  local out="$1" root="$WORK/rootfs" suite uri epoch
  fx_log "debootstrap --variant=minbase $SUITE from $MIRROR"
  debootstrap --variant=minbase --components=main "$SUITE" "$root" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 \
    || { tail -n 30 "$WORK/debootstrap.log" >&2; return 1; }

  # The suites this machine's apt uses, in the image's apt configuration.
  rm -f "$root/etc/apt/sources.list"
  : >"$root/etc/apt/sources.list.d/debian.sources"
  for suite in "$SUITE" "$SUITE-updates" "$SUITE-security"; do
    uri="$(first_uri "$suite")"
    if [[ -z "$uri" ]]; then
      fx_log "no source for $suite in $APT_ETC: the base goes without it"
      continue
    fi
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: %s\n\n' \
      "$uri" "$suite" /usr/share/keyrings/debian-archive-keyring.gpg >>"$root/etc/apt/sources.list.d/debian.sources"
  done

  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive sh -euc '
    apt-get update -qq
    apt-get -y -qq -o Dpkg::Options::=--force-confold dist-upgrade >/dev/null
    apt-get clean' >"$WORK/upgrade.log" 2>&1 || { cat "$WORK/upgrade.log" >&2; return 1; }
  umount "$root/proc"

  # The newest Release date of the suites is the image's date (and every
  # file's mtime ceiling): the same archive state gives the same tarball.
  epoch="$(for f in "$root"/var/lib/apt/lists/*_InRelease; do
    sed -n 's/^Date: //p' "$f" | head -n 1 | xargs -I{} date -u -d {} +%s
  done | sort -n | tail -n 1)"
  [[ -n "$epoch" ]] || { fx_log "no Release date found in the base's apt lists"; return 1; }

  # Drop what differs from one run to the next and what the image must not carry.
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/ldconfig/aux-cache \
    "$root"/var/log/* "$root"/var/lib/dpkg/*-old "$root"/var/cache/debconf/*-old "$root"/tmp/* \
    "$root"/etc/resolv.conf "$root"/etc/hostname "$root"/debootstrap
  : >"$root/etc/machine-id"
  (cd "$root" && dpkg-query --admindir=var/lib/dpkg -W -f='${Package}=${Version}\n') >"$WORK/packages"

  tar -C "$root" --sort=name --numeric-owner --mtime="@$epoch" --clamp-mtime \
    --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$out" .
  {
    echo "mirror=$MIRROR"
    echo "epoch=$epoch"
    echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  } >"$out.info"
  cp "$WORK/packages" "$out.packages"
  fx_log "base tarball: $(du -h "$out" | cut -f1), $(wc -l <"$out.packages") packages, archive date $(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)"
}

if cache_ok; then
  TAR="$CACHED_TAR"
  fx_log "base tarball from the cache: $TAR ($(sed -n 's/^built=//p' "$TAR.info"))"
else
  TAR="$WORK/base.tar"
  debootstrap_tarball "$TAR"
  # Refresh the cache; failing to write it is not an error.
  if mkdir -p "$CACHE_DIR" 2>/dev/null && rm -f "$CACHED_TAR.sha256" \
    && cp "$TAR" "$CACHED_TAR.tmp" 2>/dev/null \
    && cp "$TAR.info" "$CACHED_TAR.info" && cp "$TAR.packages" "$CACHED_TAR.packages" \
    && mv "$CACHED_TAR.tmp" "$CACHED_TAR" \
    && (cd "$CACHE_DIR" && sha256sum "$(basename "$CACHED_TAR")" >"$(basename "$CACHED_TAR").sha256"); then
    fx_log "cached the base tarball in $CACHE_DIR"
  else
    rm -f "$CACHED_TAR.tmp"
    fx_log "could not write the cache $CACHE_DIR (continuing without it)"
  fi
fi
EPOCH="$(sed -n 's/^epoch=//p' "$TAR.info")"

ctr="$(bh from --pull=never scratch)"
bh add --quiet "$ctr" "$TAR" / >/dev/null
bh config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin --cmd '["bash"]' \
  --label "org.opencontainers.image.title=fx-debian-$SUITE" \
  --label "org.opencontainers.image.created=$(date -u -d "@$EPOCH" +%Y-%m-%dT%H:%M:%SZ)" \
  --label "fx.debian.suite=$SUITE" --label "fx.debian.variant=minbase" "$ctr"
bh commit --quiet --rm --timestamp "$EPOCH" "$ctr" "$NAME" >/dev/null
DIGEST="$(pm image inspect --format '{{.Digest}}' "$NAME")"
[[ "$DIGEST" == sha256:* ]] || { fx_log "no digest for $NAME"; exit 1; }
echo "$NAME@$DIGEST"
