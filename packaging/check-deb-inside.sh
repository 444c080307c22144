#!/bin/bash
# Runs inside the check root as an ordinary user (see check-deb.sh):
#   check-deb-inside.sh offscreen|xcb
# Parley as a person would first use it: `parley --help`, then started signed in on the
# local server it hosts, calling the echo user; it must show its first page, sign in and
# be in the call within CALL_SECONDS, and end in order on SIGINT (status 0).
set -u
set -m  # background jobs keep SIGINT (a non-interactive shell would ignore it for them)
PLATFORM=$1
CALL_SECONDS=${CALL_SECONDS:-60}
export QT_QPA_PLATFORM=$PLATFORM XDG_RUNTIME_DIR=/tmp/xdg-runtime PARLEY_DATA_DIR=/tmp/parley-data
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
now() { date +%s%N; }
ms() { echo "$(( ($(now) - $1) / 1000000 )) ms"; }
fail() { echo "FAILED: $*"; echo "--- output:"; cat /tmp/run.log 2>/dev/null; exit 1; }

echo "== [$PLATFORM] parley --help"
t0=$(now)
parley --help >/tmp/help.txt 2>&1 || fail "parley --help: status $?"
echo "parley --help in $(ms "$t0"): $(head -1 /tmp/help.txt)"

echo "== [$PLATFORM] parley --user-id check --call echo"
t0=$(now)
PARLEY_REPORT_STARTUP=1 parley --user-id check --call echo --log-level INFO >/tmp/run.log 2>&1 &
PID=$!  # the launcher execs Python: this is the app's process
for marker in "first page shown" "signed in as check" "in a call with echo"; do
    deadline=$(( $(date +%s) + CALL_SECONDS ))
    until grep -q "$marker" /tmp/run.log; do
        kill -0 $PID 2>/dev/null || { wait $PID; fail "parley ended (status $?) before: $marker"; }
        (( $(date +%s) < deadline )) || { kill -KILL $PID; fail "no '$marker' in ${CALL_SECONDS}s"; }
        sleep 0.05
    done
    echo "$marker: $(ms "$t0") after the start"
done
echo "native code loaded:" \
    "$(grep -oE "app_packages/[^/]+(/Qt/plugins/[^/]+/[^/ ]+)?|libportaudio[^ ]*" /proc/$PID/maps \
       | sed 's|app_packages/||' | sort -u | tr '\n' ' ')"
if [[ $PLATFORM == xcb ]]; then
    for w in $(xwininfo -root -tree | grep -oE "^ +0x[0-9a-f]+"); do
        xprop -id "$w" WM_CLASS 2>/dev/null
    done | grep '"' | sort | uniq -c
fi
kill -INT $PID
for _ in $(seq 100); do kill -0 $PID 2>/dev/null || break; sleep 0.1; done
kill -0 $PID 2>/dev/null && { kill -KILL $PID; fail "still running 10 s after SIGINT"; }
wait $PID; status=$?
((status == 0)) || fail "exit status $status after SIGINT"
grep -q Traceback /tmp/run.log && fail "a traceback in the output"
echo "ended by SIGINT: exit status 0"
