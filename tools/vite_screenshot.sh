#!/bin/sh
# Take a screenshot of a Paje trace opened in ViTE, headlessly.
#
#   tools/vite_screenshot.sh TRACE.paje OUT.png [WIDTHxHEIGHT]
#
# Starts a private X server (Xvfb) on a free display, opens TRACE.paje in ViTE there, waits until the trace is
# loaded, sizes ViTE's main window to WIDTHxHEIGHT (1280x720 by default), grabs that window with ImageMagick's
# import and writes OUT.png. ViTE's parse report (its log.txt) is printed on stderr if it has anything to say;
# the script fails if ViTE found errors in the trace. Everything it started is stopped on exit.
#
# Needs Debian's packages vite, xvfb, xdotool and imagemagick:
#   apt-get install vite xvfb xdotool imagemagick
set -eu

usage() { echo "usage: $0 TRACE.paje OUT.png [WIDTHxHEIGHT]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
trace=$1
out=$2
size=${3:-1280x720}
width=${size%x*}
height=${size#*x}
case "$width$height" in *[!0-9]*|"") usage ;; esac
[ -r "$trace" ] || { echo "$0: cannot read $trace" >&2; exit 1; }
for tool in vite Xvfb xdotool import; do
  command -v "$tool" >/dev/null 2>&1 || { echo "$0: $tool not found (apt-get install vite xvfb xdotool imagemagick)" >&2; exit 1; }
done

trace_abs=$(cd "$(dirname "$trace")" && pwd)/$(basename "$trace")
case "$out" in /*) out_abs=$out ;; *) out_abs=$(pwd)/$out ;; esac

work=$(mktemp -d)
xvfb_pid=
vite_pid=
cleanup() {
  [ -n "$vite_pid" ] && kill "$vite_pid" 2>/dev/null || true
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A display nobody uses: no lock file, no socket.
display=90
while [ -e "/tmp/.X$display-lock" ] || [ -e "/tmp/.X11-unix/X$display" ]; do display=$((display + 1)); done
Xvfb ":$display" -screen 0 "$((width + 100))x$((height + 100))x24" -nolisten tcp >"$work/xvfb.log" 2>&1 &
xvfb_pid=$!
export DISPLAY=":$display"
mkdir -m 700 "$work/runtime"
export XDG_RUNTIME_DIR="$work/runtime"

# Wait for the X server.
tries=0
until xdotool getdisplaygeometry >/dev/null 2>&1; do
  tries=$((tries + 1))
  [ $tries -le 100 ] || { echo "$0: Xvfb did not start:" >&2; cat "$work/xvfb.log" >&2; exit 1; }
  sleep 0.1
done

# ViTE writes its parse report (log.txt) in its working directory.
(cd "$work" && exec vite "$trace_abs") >"$work/vite.log" 2>&1 &
vite_pid=$!

# Wait until the main window shows the trace and the loading dialog is gone (60 s at most).
window=
tries=0
while :; do
  window=$(xdotool search --onlyvisible --name "^ViTE :: " 2>/dev/null | head -n 1 || true)
  loading=$(xdotool search --onlyvisible --name "^Loading of" 2>/dev/null | head -n 1 || true)
  [ -n "$window" ] && [ -z "$loading" ] && break
  kill -0 "$vite_pid" 2>/dev/null || { echo "$0: vite exited:" >&2; cat "$work/vite.log" >&2; exit 1; }
  tries=$((tries + 1))
  [ $tries -le 600 ] || { echo "$0: ViTE did not load $trace within 60 s" >&2; exit 1; }
  sleep 0.1
done

xdotool windowsize "$window" "$width" "$height"
xdotool windowmove "$window" 0 0
sleep 2  # let ViTE redraw at the new size
import -window "$window" "$out_abs"

if [ -s "$work/log.txt" ]; then
  echo "ViTE's report on $trace:" >&2
  cat "$work/log.txt" >&2
  if grep -q "^Errors" "$work/log.txt"; then
    exit 1
  fi
fi
echo "$out"
