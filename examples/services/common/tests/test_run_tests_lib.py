"""run-tests-lib.sh: ensure_debian_packages moves installed packages to their pinned
versions (what the image installs), not only installs missing ones. dpkg-query and
apt-get are replaced by recording fakes on PATH."""

import os
import subprocess
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "run-tests-lib.sh"


def run(tmp_path, installed, pins, extra=()):
    state = tmp_path / "installed"
    state.write_text("".join(f"{k} {v}\n" for k, v in installed.items()))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    # Fake dpkg-query: answers from the state file; ${db:Status-Status} ${Version} format only.
    (bin_dir / "dpkg-query").write_text(f"""#!/bin/bash
fmt="$2"; shift 2
for p in "$@"; do
  v="$(awk -v p="$p" '$1 == p {{print $2}}' {state})"
  [[ -z "$v" ]] && {{ [[ "$fmt" == *Status* ]] && exit 1; continue; }}
  case "$fmt" in
    *Status*) printf 'installed %s' "$v" ;;
    *Package*) printf '  %s=%s\\n' "$p" "$v" ;;
    *) printf '%s' "$v" ;;
  esac
done
""")
    # Fake apt-get: records its arguments and "installs" pkg=version.
    (bin_dir / "apt-get").write_text(f"""#!/bin/bash
echo "$*" >> {tmp_path}/apt.log
[[ "$1" == update ]] && exit 0
for a in "$@"; do
  [[ "$a" == *=* && "$a" != -* ]] || continue
  grep -v "^${{a%%=*}} " {state} > {state}.new; mv {state}.new {state}
  echo "${{a%%=*}} ${{a#*=}}" >> {state}
done
""")
    for f in bin_dir.iterdir():
        f.chmod(0o755)
    (tmp_path / "list.txt").write_text("# comment\n" + "".join(f"{p}   # why\n" for p in pins))
    script = f'source {LIB}; ensure_debian_packages {tmp_path}/list.txt {" ".join(extra)}'
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True)
    apt = (tmp_path / "apt.log").read_text() if (tmp_path / "apt.log").exists() else ""
    return proc, apt


def test_installed_package_at_another_version_is_moved_to_the_pin(tmp_path):
    if os.geteuid() != 0:
        import pytest

        pytest.skip("the install path needs root")
    proc, apt = run(tmp_path, {"python3-jwt": "2.6.0-1", "python3-fastapi": "0.92.0-1"},
                    ["python3-jwt=2.6.0-1+deb12u1", "python3-fastapi=0.92.0-1"])
    assert proc.returncode == 0, proc.stderr
    assert "python3-jwt=2.6.0-1+deb12u1" in apt and "--allow-downgrades" in apt
    assert "python3-fastapi" not in apt  # already at its pin
    assert "python3-jwt=2.6.0-1+deb12u1" in proc.stderr  # the versions tested


def test_nothing_to_do_when_every_pin_is_installed(tmp_path):
    proc, apt = run(tmp_path, {"python3-jwt": "2.6.0-1+deb12u1", "python3-pytest": "7.2.1-2"},
                    ["python3-jwt=2.6.0-1+deb12u1"], ["python3-pytest"])
    assert proc.returncode == 0, proc.stderr
    assert apt == ""


def test_missing_package_is_installed(tmp_path):
    if os.geteuid() != 0:
        import pytest

        pytest.skip("the install path needs root")
    proc, apt = run(tmp_path, {}, ["python3-httpx=0.23.3-1"], ["python3-pytest"])
    assert proc.returncode == 0, proc.stderr
    assert "python3-httpx=0.23.3-1" in apt and "python3-pytest" in apt


def test_every_service_pin_exists_in_the_format_the_image_reads():
    for name in ("orders-api", "inventory-api"):
        lines = [ln.split("#")[0].strip() for ln in (LIB.parents[1] / name / "debian-packages.txt").read_text().splitlines()]
        pins = [ln for ln in lines if ln]
        assert pins and all("=" in p and p.split("=")[1] for p in pins), (name, pins)
