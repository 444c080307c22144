#!/bin/bash
# Build Parley's .deb on Debian 12 from a clone, with briefcase and our own template
# (packaging/briefcase). Only the first two steps may touch a package registry, and only
# when their result is missing: the briefcase venv and the wheelhouse. `briefcase
# create/build/package` then run with no network at all when we are root (unshare -n):
# the template is read from disk and pip installs from the wheelhouse only.
#
#   packaging/build-deb.sh            # fast: zstd -3 (Debian 12's dpkg/apt read it)
#   packaging/build-deb.sh --release  # small: xz -6, dpkg's default (~2.5 min more)
#
# Environment: WHEELHOUSE (default build/wheelhouse; point it at a cache shared by
# clones), BRIEFCASE_VENV (default build/briefcase-venv), DEB_COMPRESSION (type:level,
# overrides the above, e.g. xz:1 or gzip:6).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

COMPRESSION=${DEB_COMPRESSION:-zstd:3}
[[ ${1:-} == --release ]] && COMPRESSION=${DEB_COMPRESSION:-xz:6}
BVENV=${BRIEFCASE_VENV:-$ROOT/build/briefcase-venv}
WHEELHOUSE=${WHEELHOUSE:-$ROOT/build/wheelhouse}
SYSPY=/usr/bin/python3   # briefcase linux system accepts only the system Python

declare -a TIMES=()
step() {  # step NAME COMMAND...: run, time, remember
    local name=$1 t0 ms; shift
    echo "== $name"
    t0=$(date +%s%N)
    "$@"
    ms=$(( ($(date +%s%N) - t0) / 1000000 ))
    TIMES+=("$(printf '%-34s %4d.%d s' "$name" $((ms / 1000)) $((ms % 1000 / 100)))")
}

# This machine's pip configuration (extra indexes, find-links, constraints) must not
# leak into the build: the wheelhouse is the only source of packages.
export PIP_CONFIG_FILE=/dev/null
unset PIP_FIND_LINKS PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_CONSTRAINT PIP_NO_INDEX

briefcase_venv() {
    # A venv of the system Python passes briefcase's check (it compares sys.version
    # with /usr/bin/python3's). Pinned as in pyproject's `package` extra.
    if [[ ! -x $BVENV/bin/briefcase ]]; then
        "$SYSPY" -m venv "$BVENV"
        "$BVENV/bin/pip" install -q "briefcase==0.4.7"
    fi
}

wheelhouse() {
    # requirements.lock is hash-pinned: download exactly it (binary wheels only, for this
    # Python: the lock's markers pick av 18 on 3.11), into a fresh folder when the lock
    # changed, so no wheel of an older lock stays behind. The stamp makes a warm clone
    # skip the registry entirely.
    local sum; sum=$(sha256sum requirements.lock | cut -d' ' -f1)
    if [[ -f $WHEELHOUSE/.lock-sha256 && $(cat "$WHEELHOUSE/.lock-sha256") == "$sum" ]]; then
        echo "wheelhouse up to date ($WHEELHOUSE)"
    else
        rm -rf "$WHEELHOUSE.new"
        "$BVENV/bin/pip" download -q --no-deps --require-hashes --only-binary=:all: \
            -r requirements.lock -d "$WHEELHOUSE.new"
        echo "$sum" > "$WHEELHOUSE.new/.lock-sha256"
        rm -rf "$WHEELHOUSE"
        mv "$WHEELHOUSE.new" "$WHEELHOUSE"
    fi
    # pyproject names ./build/wheelhouse (requirement_installer_args).
    if [[ $WHEELHOUSE != "$ROOT/build/wheelhouse" ]]; then
        ln -sfn "$WHEELHOUSE" "$ROOT/build/wheelhouse"
    fi
}

system_packages() {
    # briefcase refuses to build unless its build tools and every Depends of the .deb
    # are installed here (`dpkg -s`), so check first and say what is missing.
    local -a want missing=()
    mapfile -t want < <("$SYSPY" - <<'EOF'
import tomllib
cfg = tomllib.load(open("pyproject.toml", "rb"))["tool"]["briefcase"]["app"]["parley"]
deb = cfg["linux"]["system"]["debian"]
print(*["python3-dev", "dpkg-dev", "gcc", "g++", "libc6-dev", "make", "git"],
      *deb.get("system_requires", []), *deb["system_runtime_requires"], sep="\n")
EOF
)
    for p in "${want[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if ((${#missing[@]})); then
        if ((EUID == 0)); then
            apt-get install -y -qq --no-install-recommends "${missing[@]}"
        else
            echo "missing: sudo apt-get install ${missing[*]}" >&2
            exit 1
        fi
    fi
}

# Root can prove the build is offline: briefcase runs in a network namespace with no
# interfaces at all.
OFFLINE=()
if ((EUID == 0)) && unshare -n true 2>/dev/null; then OFFLINE=(unshare -n); fi
briefcase() { "${OFFLINE[@]}" "$BVENV/bin/briefcase" "$@" --no-input; }

create() {
    # `create` asks before overwriting an existing bundle (and --no-input says no).
    rm -rf build/parley
    briefcase create linux system
}

package() {
    # dpkg-deb reads its compressor from the environment (dpkg >= 1.21.10); briefcase
    # passes the environment through.
    rm -f dist/parley_*.deb
    DPKG_DEB_COMPRESSOR_TYPE=${COMPRESSION%:*} DPKG_DEB_COMPRESSOR_LEVEL=${COMPRESSION#*:} \
        briefcase package linux system --adhoc-sign
}

mkdir -p build
step "briefcase venv" briefcase_venv
step "wheelhouse" wheelhouse
step "system packages" system_packages
step "briefcase create" create
step "briefcase build" briefcase build linux system
step "briefcase package ($COMPRESSION)" package

echo
printf '%s\n' "${TIMES[@]}"
ls -l dist/parley_*.deb
