#!/usr/bin/env bash
# Installs what exitmatrix needs to check foreign targets, idempotently:
# Debian's rustc 1.63 with the standard library of each target, the cross
# C compilers, and the runners (qemu-user, Wine; Node.js is already there).
#
#   scripts/install-targets.sh            # the standard targets (what --all-targets requires)
#   scripts/install-targets.sh --extra    # also the extra ones (standard = false)
#   scripts/install-targets.sh --check    # only say what is missing (exit 1 if anything is)
#   scripts/install-targets.sh --list     # only print the packages and sysroots it would install
#
# What to install comes from the target descriptions, targets/<triple>.toml
# (documented in harness/src/pure/target.rs): each one's `[install]
# packages` (Debian packages of the host's architecture) and `sysroot-arch`
# (a Debian architecture whose libstd-rust-dev is unpacked), and `standard`
# to tell whether it needs --extra. They are read with sed, one line each,
# which is why the loader insists that `packages` is written on one line.
#
# The std of a foreign Linux architecture is not installed with dpkg: it is
# downloaded as a .deb with a private apt list directory and unpacked into
# <cache>/foreign/sysroots/<arch> (the cache is ~/.cache/exitmatrix unless
# EXITMATRIX_CACHE_DIR says otherwise, outside target/ so `cargo clean`
# keeps it), which rustc gets with --sysroot. Adding i386
# with `dpkg --add-architecture` breaks `apt-get update` on Debian 12 (a stale
# index), and an installed libc6:arm64 makes qemu-aarch64 -L hang in
# pthread_create (see shared TARGETS notes in the README). Nothing here is
# downloaded from anywhere but Debian's package archive, through apt.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}
FOREIGN=${EXITMATRIX_FOREIGN_DIR:-$CACHE/foreign}
CHECK=0
EXTRA=0
LIST=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    --extra) EXTRA=1 ;;
    --list) LIST=1 ;;
    *) echo "usage: $0 [--check] [--extra] [--list]" >&2; exit 2 ;;
  esac
done

# One key's value in a description: `key = value` at the start of a line.
value() { sed -n "s/^$2 *= *//p" "$1" | sed 's/ *#.*$//' | head -n 1; }

PACKAGES=()   # of the host's architecture
ARCHES=()     # foreign architectures whose libstd-rust-dev is unpacked into a sysroot
for f in targets/*.toml; do
  [ "$(value "$f" standard)" = true ] || [ "$EXTRA" = 1 ] || continue
  # `packages = ["a", "b"]`: the quoted words.
  read -r -a words <<<"$(value "$f" packages | grep -o '"[^"]*"' | tr -d '"' | tr '\n' ' ')"
  PACKAGES+=("${words[@]}")
  arch=$(value "$f" sysroot-arch | tr -d '"')
  [ -z "$arch" ] || ARCHES+=("$arch")
done
[ ${#PACKAGES[@]} -gt 0 ] || { echo "no target descriptions in $ROOT/targets" >&2; exit 2; }
# Each once, in a stable order.
mapfile -t PACKAGES < <(printf '%s\n' "${PACKAGES[@]}" | sort -u)
mapfile -t ARCHES < <(printf '%s\n' "${ARCHES[@]}" | sort -u)

if [ "$LIST" = 1 ]; then
  echo "packages: ${PACKAGES[*]}"
  echo "sysroots: ${ARCHES[*]}"
  exit 0
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done
missing_arches=()
for a in "${ARCHES[@]}"; do [ -e "$FOREIGN/sysroots/$a/.complete" ] || missing_arches+=("$a"); done

if [ "$CHECK" = 1 ]; then
  [ ${#missing[@]} -eq 0 ] && [ ${#missing_arches[@]} -eq 0 ] && { echo "all installed"; exit 0; }
  [ ${#missing[@]} -gt 0 ] && echo "missing packages: ${missing[*]}"
  [ ${#missing_arches[@]} -gt 0 ] && echo "missing std sysroots: ${missing_arches[*]}"
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

for a in "${missing_arches[@]}"; do
  echo "unpacking libstd-rust-dev:$a into $FOREIGN/sysroots/$a"
  apt_dir="$FOREIGN/apt-$a"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  opts=(-o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "APT::Sandbox::User=root"
        -o "APT::Architecture=$a" -o "APT::Architectures::=$a")
  # Exits non-zero on Debian 12 for some architectures (a stale security
  # index); the main index, which is all we need, is fine.
  apt-get "${opts[@]}" update -qq >/dev/null 2>&1 || true
  rm -rf "$FOREIGN/sysroots/$a"
  mkdir -p "$FOREIGN/sysroots/$a"
  (cd "$apt_dir" && rm -f ./*.deb && apt-get "${opts[@]}" download -qq "libstd-rust-dev:$a" >/dev/null)
  for deb in "$apt_dir"/*.deb; do dpkg-deb -x "$deb" "$FOREIGN/sysroots/$a"; done
  # The .debs and the private lists are of no further use once unpacked.
  rm -rf "$apt_dir"
  touch "$FOREIGN/sysroots/$a/.complete"
done
[ ${#missing[@]} -eq 0 ] || $SUDO apt-get clean

echo "foreign targets installed"
