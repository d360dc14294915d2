# shellcheck shell=bash
# Sourced (bash) by build-base.sh and smoke.sh. Defines:
#   pm ARGS...   podman on the private store FX_STORE / FX_RUNROOT
#   bh ARGS...   buildah on the same store
#   fx_unmount_store   unmounts whatever is still mounted under the store
#   fx_log MESSAGE...
#
# What this machine needs, and why (none of it belongs in the Dockerfiles,
# which stay plain and build the same with Docker or on a developer's podman):
# - CI and the developers' machines are themselves Docker containers, with
#   cgroup v1 plus a cgroup2 mount ("hybrid"), no systemd and no journald:
#   cgroupfs as cgroup manager, events to a file, and runc (crun 1.8 refuses
#   hybrid cgroups).
# - The root file system is overlayfs, and the kernel's overlay cannot stack
#   on it: overlay through fuse-overlayfs when /dev/fuse is there, else the
#   vfs driver (a full copy per layer and per container: slower, but it works).
#   FX_STORAGE_DRIVER=vfs forces vfs.
# - The store is private to one run (FX_STORE, a temporary directory), so a
#   run never sees images or containers of another one and leaves nothing.
# - Builds use chroot isolation and the host network (RUN steps need only
#   apt-get, to the Debian archive).
# - The container lacks CAP_SYS_RESOURCE, so podman's default rlimits for
#   root containers (nofile 1048576, nproc 4194304) cannot be granted:
#   FX_ULIMITS sets lower ones explicitly.

fx_log() { printf 'fx-images: %s\n' "$*" >&2; }

: "${FX_STORE:?FX_STORE (the private podman store) must be set}"
: "${FX_RUNROOT:?FX_RUNROOT (the private podman run root) must be set}"

# shellcheck disable=SC2034 # used by the scripts that source this file
FX_ULIMITS=(--ulimit nofile=8192:8192 --ulimit nproc=8192:8192)

if [[ "${FX_STORAGE_DRIVER:-}" != vfs && -c /dev/fuse && -x /usr/bin/fuse-overlayfs ]]; then
  FX_STORAGE=(--storage-driver overlay --storage-opt overlay.mount_program=/usr/bin/fuse-overlayfs)
else
  FX_STORAGE=(--storage-driver vfs)
fi

pm() {
  podman --root "$FX_STORE" --runroot "$FX_RUNROOT" "${FX_STORAGE[@]}" \
    --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}

bh() {
  buildah --root "$FX_STORE" --runroot "$FX_RUNROOT" "${FX_STORAGE[@]}" "$@"
}

fx_unmount_store() {
  local target
  findmnt -rn -o TARGET | awk -v root="$FX_STORE" -v run="$FX_RUNROOT" \
    'index($0, root "/") == 1 || index($0, run "/") == 1' | sort -r | while read -r target; do
    umount "$target" 2>/dev/null || umount -l "$target" 2>/dev/null || true
  done
}
