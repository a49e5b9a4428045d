#!/usr/bin/env bash
# Installs what exitmatrix needs to run the older systems of its source
# documents for real (issue #17), idempotently:
#
#   - DOS: Debian's `dosbox` (0.74), run headless by harness/src/systems/dos.rs.
#   - AmigaOS: `vamos` from amitools 0.8.1 (with machine68k 0.3.0; 0.4.x
#     fails with "'machine68k.Traps' object has no attribute
#     'set_exc_func'"), in a private Python virtual environment under the
#     cache directory, never in the system's Python.
#   - Plan 9: Debian's `9base` (`/usr/lib/plan9/bin/rc`), for the research
#     notes on rc's `$status`; nothing runs it yet.
#
#   scripts/install-systems.sh           # install what is missing
#   scripts/install-systems.sh --check   # only say what is missing (exit 1 if anything is)
#
# The virtual environment is
#   ${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}/amitools
# and `vamos` is its bin/vamos. harness/src/systems/amiga.rs finds it there
# (or through EXITMATRIX_VAMOS). Packages come only from Debian's archive
# (apt) and the Python package index (pip), by name and pinned version.
set -euo pipefail

CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
  esac
done

CACHE=${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}
VENV=$CACHE/amitools
AMITOOLS_VERSION=0.8.1
MACHINE68K_VERSION=0.3.0

PACKAGES=(
  dosbox        # /usr/bin/dosbox, DOSBox 0.74
  9base         # /usr/lib/plan9/bin/rc (research only)
  python3-venv  # the private environment for amitools
  python3-dev   # Python.h: machine68k 0.3.0 has no wheel for Debian 12's
                # Python 3.11 and is compiled by pip (seen on a fresh Debian 12)
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

# The interpreter the environment is made with: Debian's, whose venv module
# python3-venv provides.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3 || true)

venv_ok() {
  [ -x "$VENV/bin/vamos" ] || return 1
  "$VENV/bin/python" - "$AMITOOLS_VERSION" "$MACHINE68K_VERSION" <<'EOF' 2>/dev/null
import sys
from importlib.metadata import version
ok = version("amitools") == sys.argv[1] and version("machine68k") == sys.argv[2]
sys.exit(0 if ok else 1)
EOF
}

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
venv_missing=0
venv_ok || venv_missing=1

if [ "$CHECK" = 1 ]; then
  [ ${#missing[@]} -eq 0 ] && [ "$venv_missing" = 0 ] && { echo "all installed (vamos: $VENV/bin/vamos)"; exit 0; }
  [ ${#missing[@]} -gt 0 ] && echo "missing packages: ${missing[*]}"
  [ "$venv_missing" = 1 ] && echo "missing: amitools $AMITOOLS_VERSION + machine68k $MACHINE68K_VERSION in $VENV"
  exit 1
fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ "$venv_missing" = 1 ]; then
  [ -n "$PYTHON" ] || { echo "no python3 to make $VENV with" >&2; exit 1; }
  echo "creating $VENV (amitools $AMITOOLS_VERSION, machine68k $MACHINE68K_VERSION)"
  mkdir -p "$CACHE"
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check \
    "amitools==$AMITOOLS_VERSION" "machine68k==$MACHINE68K_VERSION"
  venv_ok || { echo "amitools installed, but $VENV/bin/vamos is not usable" >&2; exit 1; }
fi
echo "all installed (vamos: $VENV/bin/vamos)"
