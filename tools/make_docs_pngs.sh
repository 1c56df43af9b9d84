#!/bin/sh
# Draw the consolidation example's pictures shown in README.md:
#   docs/consolidation-gantt.png        VM states per PM, with the migrations as arrows
#   docs/consolidation-utilization.png  host CPU utilization over time
#
#   tools/make_docs_pngs.sh            (from anywhere; needs the plot extra: pip install '.[plot]')
#
# Replays traces/consolidation.trace on the embedded platform into a temporary directory (the tidy CSV is named
# consolidation.csv, the name the pictures' titles show, with its migrations CSV beside it), then draws both
# pictures with `replay plot`. The same matplotlib version draws the same bytes.
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

cd "$repo"
python -m replay run traces/consolidation.trace --csv "$work/consolidation.csv" \
  --migrations "$work/consolidation.migrations.csv" --quiet
python -m replay plot "$work/consolidation.csv" --what gantt -o docs/consolidation-gantt.png
python -m replay plot "$work/consolidation.csv" --what utilization -o docs/consolidation-utilization.png
