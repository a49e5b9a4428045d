#!/usr/bin/env bash
# Installs a private Rust 1.96 toolchain (Debian's rustc-web) that can build
# the standard library from source for any target, and the ProcessPrng shim
# DLL that Rust programs for Windows need under Wine 8. Idempotent.
#
#   scripts/install-rust-web.sh           # install what is missing
#   scripts/install-rust-web.sh --check   # only say what is missing (exit 1 if anything is)
#
# Everything goes into the project's cache directory,
#   ${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}
# which `cargo clean` leaves alone:
#   rust-web/usr/bin/{rustc,rustdoc,clippy-driver}   the toolchain
#   rust-web/usr/lib/rustlib/src/rust/library        std's sources, for -Zbuild-std
#   prng-shim/bcryptprimitives.dll                   the Wine shim (scripts/prng-shim.c)
#
# Run the toolchain with LD_LIBRARY_PATH=$R/usr/lib/x86_64-linux-gnu:$R/usr/lib
# (R = the rust-web folder): without it rustc may load another
# librustc_driver and report the wrong sysroot. `cargo xtask check-platforms`
# does this for you.
#
# Why not `apt-get install rustc-web`: it conflicts with Debian's `rustc`
# 1.63 and would remove it, and the foreign targets of
# scripts/install-targets.sh are built with that one. So the .debs are only
# downloaded (`apt-get download`, Debian's archive through apt, nothing
# else) and unpacked with `dpkg-deb -x`; dpkg never learns of them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CACHE=${EXITMATRIX_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/exitmatrix}
R=$CACHE/rust-web
SHIM_SRC=$ROOT/scripts/prng-shim.c
SHIM=$CACHE/prng-shim/bcryptprimitives.dll
MINGW=x86_64-w64-mingw32-gcc

CHECK=0
for arg in "$@"; do
  case "$arg" in
    --check) CHECK=1 ;;
    *) echo "usage: $0 [--check]" >&2; exit 2 ;;
  esac
done

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
started_ms=$(date +%s%3N)

# The library path the private rustc needs (see above).
rust_env() { LD_LIBRARY_PATH="$R/usr/lib/x86_64-linux-gnu:$R/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$@"; }

# True if the unpacked toolchain is whole and reports its own sysroot.
toolchain_ok() {
  [ -e "$R/.complete" ] || return 1
  [ -x "$R/usr/bin/clippy-driver" ] || return 1
  [ -e "$R/usr/lib/rustlib/src/rust/library/Cargo.toml" ] || return 1
  [ "$(rust_env "$R/usr/bin/rustc" --print sysroot 2>/dev/null)" = "$R/usr" ]
}
shim_ok() { [ -e "$SHIM" ] && [ ! "$SHIM_SRC" -nt "$SHIM" ]; }

if [ "$CHECK" = 1 ]; then
  missing=()
  toolchain_ok || missing+=("rust-web toolchain ($R)")
  command -v "$MINGW" >/dev/null || missing+=("gcc-mingw-w64-x86-64")
  shim_ok || missing+=("ProcessPrng shim ($SHIM)")
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all installed: $(cat "$R/.complete") in $R"
    exit 0
  fi
  printf 'missing: %s\n' "${missing[@]}"
  exit 1
fi

# Updates apt's lists, at most once a run. rustc-web 1.96 is in Debian's
# security archive, which lists of a fresh machine may not yet show.
apt_updated=0
apt_update() {
  if [ "$apt_updated" = 0 ]; then
    $SUDO apt-get update -qq
    apt_updated=1
  fi
}

# Prints the names a package depends on directly, matching an extended regex.
depends_matching() {
  apt-cache depends "$1" | sed -n 's/^ *Depends: \([^ <>]*\)$/\1/p' | grep -E "$2" || true
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

if toolchain_ok; then
  echo "rust-web toolchain already in $R ($(cat "$R/.complete"))"
else
  candidate() { apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: //p'; }
  recent() { case "$1" in 1.9[6-9]* | 1.[1-9][0-9][0-9]*) return 0 ;; *) return 1 ;; esac; }
  # Sets `version` and `packages` from apt's lists.
  resolve() {
    version=$(candidate rustc-web)
    if ! recent "$version"; then
      echo "error: apt offers rustc-web '$version', not 1.96 or later" >&2
      return 1
    fi
    # The versioned names: libstd-rust-web-1.96 (its runtime, with
    # librustc_driver) and the LLVM it links, libllvm22 for 1.96.
    std_rt=$(depends_matching libstd-rust-web-dev '^libstd-rust-web-[0-9.]+$' | head -n1)
    [ -n "$std_rt" ] || { echo "error: cannot resolve libstd-rust-web-dev's runtime package" >&2; return 1; }
    llvm=$(depends_matching "$std_rt" '^libllvm[0-9]+$' | head -n1)
    [ -n "$llvm" ] || { echo "error: cannot resolve $std_rt's LLVM package" >&2; return 1; }
    packages=(rustc-web libstd-rust-web-dev "$std_rt" "$llvm" rust-web-src rust-web-clippy)
    # Shared libraries those two link that this machine lacks (on Debian
    # 12 as shipped: none) are unpacked into the prefix too, where
    # LD_LIBRARY_PATH finds them. Direct dependencies only: a recursive
    # walk would follow alternatives (debconf | cdebconf) into packages
    # nobody needs. rustc-web's own gcc/binutils/libc6-dev serve linking,
    # which the targets that link install themselves
    # (scripts/install-targets.sh).
    for dep in $(depends_matching "$std_rt" '.') $(depends_matching "$llvm" '.'); do
      [ "$dep" = "$llvm" ] || installed "$dep" || packages+=("$dep")
    done
  }
  # As root, apt would hand the download to its _apt user, which cannot
  # write into a private folder under /root.
  download() {
    resolve || return 1
    echo "downloading ${packages[*]} ($version)"
    rm -f "$debs"/*.deb
    (cd "$debs" && apt-get -o APT::Sandbox::User="$(id -un)" download -qq "${packages[@]}")
  }

  # The .debs go to a scratch folder that is deleted afterwards; the new
  # prefix is assembled beside the old one and renamed into place, so an
  # interrupted run never leaves a half toolchain that looks whole.
  debs=$CACHE/rust-web.debs
  stage=$CACHE/rust-web.partial
  rm -rf "$debs" "$stage"
  mkdir -p "$debs" "$stage"
  # apt's lists may be empty or old on a fresh machine, or name a version
  # the archive has since replaced: then update them and try once more.
  recent "$(candidate rustc-web)" || apt_update
  if ! download; then
    [ "$apt_updated" = 0 ] || exit 1
    apt_update
    download
  fi
  for deb in "$debs"/*.deb; do
    case "$(basename "$deb")" in
      rust-web-src_*)
        # Only std's sources are needed (about 60 MB of the 340): the
        # compiler's own sources, its tests and Debian's tooling are not.
        src=$debs/src
        mkdir -p "$src"
        dpkg-deb -x "$deb" "$src"
        for dir in "$src"/usr/src/rustc-*; do
          name=$(basename "$dir")
          mkdir -p "$stage/usr/src/$name" "$stage/usr/lib/rustlib/src"
          mv "$dir/library" "$stage/usr/src/$name/library"
          ln -sfn "../../../src/$name" "$stage/usr/lib/rustlib/src/rust"
        done
        rm -rf "$src"
        ;;
      *) dpkg-deb -x "$deb" "$stage" ;;
    esac
  done
  rm -rf "$debs" "$stage/usr/share/doc" "$stage/usr/share/man" "$stage/usr/share/lintian"
  echo "$version" >"$stage/.complete"
  rm -rf "$R"
  mv "$stage" "$R"
  # rustc derives its sysroot from its own path: check it after the move.
  sysroot=$(rust_env "$R/usr/bin/rustc" --print sysroot)
  if [ "$sysroot" != "$R/usr" ]; then
    echo "error: $R/usr/bin/rustc reports sysroot '$sysroot', not '$R/usr'" >&2
    rm -f "$R/.complete"
    exit 1
  fi
  toolchain_ok || { echo "error: the unpacked toolchain in $R is incomplete" >&2; rm -f "$R/.complete"; exit 1; }
  echo "installed $(rust_env "$R/usr/bin/rustc" --version) in $R"
fi

if ! command -v "$MINGW" >/dev/null; then
  echo "installing gcc-mingw-w64-x86-64"
  apt_update
  $SUDO apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null
fi

if shim_ok; then
  echo "ProcessPrng shim already in $SHIM"
else
  mkdir -p "$(dirname "$SHIM")"
  # Built under another name and renamed: a Wine prefix being set up
  # meanwhile never copies half a DLL.
  "$MINGW" -shared -O2 -Wall -Wextra -Werror -s -o "$SHIM.partial" "$SHIM_SRC" -ladvapi32
  mv "$SHIM.partial" "$SHIM"
  echo "built $SHIM"
fi

ms=$(($(date +%s%3N) - started_ms))
printf 'done in %d.%d s; disk used:\n' $((ms / 1000)) $((ms % 1000 / 100))
du -shc "$R" "$(dirname "$SHIM")" | sed 's/^/  /'
