#!/usr/bin/env bash
# Builds the SimGrid reference replayer (replay_ref.cpp) into tools/simgrid_ref/build/.
# Needs Debian's libsimgrid-dev (SimGrid 3.32: headers in /usr/include/simgrid, library -lsimgrid) and g++.
# Environment: CXX (default g++), SIMGRID_PREFIX (default /usr) for a SimGrid installed elsewhere.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix="${SIMGRID_PREFIX:-/usr}"
cxx="${CXX:-g++}"
out="$here/build"

if [[ ! -f "$prefix/include/simgrid/s4u.hpp" ]]; then
    echo "build.sh: SimGrid headers not found ($prefix/include/simgrid/s4u.hpp is missing)." >&2
    echo "build.sh: install them with 'apt-get install libsimgrid-dev' (SimGrid 3.32), or set SIMGRID_PREFIX." >&2
    exit 1
fi
if ! command -v "$cxx" >/dev/null 2>&1; then
    echo "build.sh: C++ compiler '$cxx' not found (apt-get install g++, or set CXX)." >&2
    exit 1
fi

mkdir -p "$out"
src="$here/replay_ref.cpp"
bin="$out/replay_ref"
if [[ -x "$bin" && "$bin" -nt "$src" && "$bin" -nt "$here/build.sh" ]]; then
    exit 0
fi
libdir=()
if [[ "$prefix" != /usr ]]; then
    libdir=(-L"$prefix/lib" -Wl,-rpath,"$prefix/lib")
fi
"$cxx" -O2 -std=c++17 -Wall -Wextra -I"$prefix/include" -o "$bin.tmp" "$src" "${libdir[@]}" -lsimgrid
mv "$bin.tmp" "$bin"
echo "build.sh: built $bin" >&2
