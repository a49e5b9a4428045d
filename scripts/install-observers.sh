#!/usr/bin/env bash
# Installs the optional observers of the native matrix, idempotently: the
# eight shells, Plan 9's rc (9base), python3 (the Python views), a JDK (java
# and javac, for the Java parent), Node.js, Perl, Go (golang-go, which builds
# the Go parent) and Ruby (the runtime parents), and Chromium (which renders the HTML
# reports in the project's tests). Debian package names.
#
#   scripts/install-observers.sh          # install what is missing
#   scripts/install-observers.sh --check  # only say what is missing (exit 1 if anything is)
set -euo pipefail
CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
  esac
done

PACKAGES=(dash bash ksh93u+m mksh zsh busybox yash posh 9base python3 openjdk-17-jdk-headless nodejs perl golang-go ruby chromium)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
missing=()
for p in "${PACKAGES[@]}"; do installed "$p" || missing+=("$p"); done

if [ "$CHECK" = 1 ]; then
  if [ ${#missing[@]} -eq 0 ]; then echo "observers: all installed"; exit 0; fi
  echo "observers: missing packages: ${missing[*]}"
  exit 1
fi
if [ ${#missing[@]} -eq 0 ]; then echo "observers: all installed"; exit 0; fi

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
started=$SECONDS
echo "installing: ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The downloaded .debs are of no further use.
$SUDO apt-get clean
echo "observers installed in $((SECONDS - started)) s"
