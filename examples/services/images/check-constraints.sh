#!/bin/sh
# Run inside a service's container (smoke.sh: podman exec -i CONTAINER sh -s 1
# < this file): exit 1 unless process PID (default: this shell) runs under the
# platform's constraints, as the kernel applies them, not as they were
# requested:
# uid/gid 10001, no effective or bounding capabilities, no_new_privs, the root
# file system mounted read-only and /tmp a writable tmpfs.
pid="${1:-self}"
fail=0
bad() { echo "constraint not met: $*"; fail=1; }

ids="$(awk '$1 == "Uid:" { u = $2 "/" $3 "/" $4 "/" $5 } $1 == "Gid:" { g = $2 "/" $3 "/" $4 "/" $5 } END { print u ":" g }' "/proc/$pid/status")"
[ "$ids" = 10001/10001/10001/10001:10001/10001/10001/10001 ] || bad "real/effective/saved/fs uid:gid are $ids, not 10001"
for field in CapEff CapBnd CapPrm; do
  value="$(awk -v f="$field:" '$1 == f { print $2 }' "/proc/$pid/status")"
  [ "$value" = 0000000000000000 ] || bad "$field is $value"
done
[ "$(awk '$1 == "NoNewPrivs:" { print $2 }' "/proc/$pid/status")" = 1 ] || bad "no_new_privs is off"

# mountinfo: field 5 is the mount point, field 6 its options; the file system
# type follows the " - " separator.
root_opts="$(awk '$5 == "/" { o = $6 } END { print o }' "/proc/$pid/mountinfo")"
case ",$root_opts," in *,ro,*) ;; *) bad "/ is mounted '$root_opts', not read-only" ;; esac
tmp_type="$(awk '$5 == "/tmp" { for (i = 7; i <= NF; i++) if ($i == "-") { t = $(i + 1); break } } END { print t }' "/proc/$pid/mountinfo")"
[ "$tmp_type" = tmpfs ] || bad "/tmp is '${tmp_type:-not a mount}', not a tmpfs"
probe="/tmp/.constraints-probe.$$"
if : >"$probe" 2>/dev/null; then rm -f "$probe"; else bad "/tmp is not writable"; fi
exit "$fail"
