#!/bin/sh
# Shared first build step of the services' images (see their Dockerfiles):
#
#   image-setup.sh <debian-packages.txt> <service-name>
#
# Installs the Debian bookworm packages the list names (the same list the
# service's run-tests.sh installs before running its suite: tested code is
# shipped code), records the versions shipped in
# /usr/share/<service-name>/debian-packages.versions (compare with the list
# run-tests.sh prints), and creates the unprivileged user the image runs as
# (uid/gid 10001, no home, no shell).
set -eux
list="$1"
name="$2"
pkgs="$(sed -e 's/#.*//' "$list" | xargs)"
apt-get update
apt-get install -y --no-install-recommends $pkgs
apt-get clean
rm -rf /var/lib/apt/lists/*
mkdir -p "/usr/share/$name"
dpkg-query -W -f='${Package}=${Version}\n' $pkgs | tee "/usr/share/$name/debian-packages.versions"
groupadd --system --gid 10001 app
useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
  --shell /usr/sbin/nologin app
