#!/bin/sh
# Draw the pictures README.md shows:
#   docs/consolidation-gantt.png        VM states per PM, with the migrations as arrows
#   docs/consolidation-utilization.png  host CPU utilization over time
#   docs/sweep-downtime.png             the sweep example: a migration's downtime against max_downtime
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

# the sweep example's picture (README.md, docs/sweeps.md): downtime against max_downtime, by dp_intensity
python -m replay sweep traces/sweep/migration.toml -o "$work/migration.parquet" --quiet
python -m replay plot "$work/migration.parquet" --x max_downtime --y downtime_max --hue dp_intensity \
  -o docs/sweep-downtime.png
