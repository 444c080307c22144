#!/bin/bash
# Install a Parley .deb in a fresh Debian 12 root and start it. Run as root.
#
#   packaging/check-deb.sh dist/parley_*.deb [--x11]
#
# The first run makes a minimal bookworm root with debootstrap (~30 s) and keeps it
# (CHECK_BASE, default /var/tmp/parley-check/bookworm). Every run works in a throwaway
# overlay of it (upper layer on tmpfs): each check starts from the same pristine root at
# no cost and leaves nothing behind. apt's downloaded .debs are kept beside the base
# (CHECK_BASE.archives) so later runs need not fetch them again; apt still resolves and
# installs every dependency from scratch.
#
# In the root: `apt-get install ./parley.deb` (its Depends pull everything else),
# then, as an ordinary user: `parley --help`, and Parley on Qt's offscreen platform
# signed in on the local server it hosts, calling the echo user (check-deb-inside.sh),
# ended with SIGINT. The exit status says whether all of it worked. --x11 also runs it on a private Xvfb and prints the
# window's WM_CLASS (docks match it with parley.desktop's StartupWMClass).
#
# All mounts are made in a private mount namespace (unshare -m): they end with it, even
# when a step fails. Parley runs in its own network namespace with only loopback, so its
# local server (127.0.0.1:8719) cannot meet anything else on this machine.
set -euo pipefail
DEB=$(realpath "$1"); X11=${2:-}
BASE=${CHECK_BASE:-/var/tmp/parley-check/bookworm}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
export CALL_SECONDS=${CALL_SECONDS:-60}
HERE=$(dirname "$(realpath "$0")")

now() { date +%s%N; }
ms() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }

if [[ ! -d $BASE/usr ]]; then
    echo "== debootstrap --variant=minbase bookworm (once): $BASE"
    t0=$(now)
    mkdir -p "$(dirname "$BASE")"
    rm -rf "$BASE.tmp"
    debootstrap --variant=minbase bookworm "$BASE.tmp" "$MIRROR" >"$BASE.debootstrap.log"
    mv "$BASE.tmp" "$BASE"
    echo "debootstrap: $(ms "$t0")"
fi
mkdir -p "$BASE.archives/partial"

export DEB BASE X11 HERE
exec unshare --mount --propagation private bash -euo pipefail -c '
now() { date +%s%N; }
ms() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }
W=$(mktemp -d /tmp/parley-check.XXXXXX)
mount -t tmpfs -o size=8g tmpfs "$W"
mkdir "$W/upper" "$W/work" "$W/root"
mount -t overlay overlay -o "lowerdir=$BASE,upperdir=$W/upper,workdir=$W/work" "$W/root"
R=$W/root
mount -t proc proc "$R/proc"
mount --bind /dev "$R/dev"
mount -t tmpfs tmpfs "$R/dev/shm"
mount -t devpts -o newinstance devpts "$R/dev/pts"   # apt wants a pty for its log
mount -t tmpfs tmpfs "$R/tmp"
mount --bind "$BASE.archives" "$R/var/cache/apt/archives"
cp /etc/resolv.conf "$R/etc/resolv.conf"
cp "$DEB" "$HERE/check-deb-inside.sh" "$R/tmp/"
ENV=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
     DEBIAN_FRONTEND=noninteractive CALL_SECONDS=$CALL_SECONDS)
in_root() { chroot "$R" "${ENV[@]}" "$@"; }
# Parley as an ordinary user (the installed tree is read-only to it), alone in a new
# network namespace with loopback only (ip runs outside the chroot).
as_user() { unshare -n sh -c "ip link set lo up && exec chroot $R ${ENV[*]} \
    runuser -u tester -- env HOME=/home/tester $*"; }

t0=$(now); in_root apt-get update -qq; echo "apt-get update: $(ms $t0)"
t0=$(now)
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$DEB")" >"$W/apt.log" \
    || { tail -30 "$W/apt.log"; exit 1; }
echo "apt-get install ./$(basename "$DEB"): $(ms $t0)" \
     "($(grep -c "^Setting up" "$W/apt.log") packages set up)"

in_root useradd -m tester
status=0
as_user bash /tmp/check-deb-inside.sh offscreen || status=$?

if [[ $X11 == --x11 && $status == 0 ]]; then
    t0=$(now)
    in_root apt-get install -y -qq --no-install-recommends xvfb xauth x11-utils >/dev/null
    echo "apt-get install xvfb xauth x11-utils: $(ms $t0)"
    as_user xvfb-run -a bash /tmp/check-deb-inside.sh xcb || status=$?
fi
# Anything still running in the root was started here (xvfb-run does not wait for its
# Xvfb): end it, so the root can be unmounted.
for p in /proc/[0-9]*; do
    [[ $(readlink "$p/root" 2>/dev/null) == "$R" ]] && kill -KILL "${p#/proc/}" 2>/dev/null || true
done
sleep 0.2
cd /
umount -R "$W" || umount -R -l "$W"
rmdir "$W"
exit $status
'
