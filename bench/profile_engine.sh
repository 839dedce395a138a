#!/usr/bin/env bash
# Import + resolve benchmark: generates a realistic three-source data set (cdphub-gen), imports it
# with `cdphub import` (normalize, store, resolve, then full segment evaluation), and reports
# records/s and peak RSS beside the sqlite3 shell loading the same lines into a plain table on
# the same disk in the same run. Then runs the segment and diff benchmarks (cdphub-engine-bench).
#
#   bench/profile_engine.sh [RECORDS] [BUILD_DIR]      (defaults: 1000000 build/default)
#
# Results go to stdout; docs/benchmarks.md records them with this command.
set -euo pipefail
records=${1:-1000000}
build=${2:-build/default}
bin=$(cd "$build/bin" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cdphub-bench-XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "== data: $records records (cdphub-gen --seed 42)"
"$bin/cdphub-gen" --records "$records" --seed 42 --out "$work/data" -q
mkdir -p "$work/m/segments"
echo '{"data_dir": "../var"}' > "$work/m/hub.json"
cat > "$work/m/segments/de_buyers.json" <<'JSON'
{"name": "de_buyers", "expression": "traits.country == \"DE\" and count(orders within 365d) >= 1"}
JSON

total_s=0
peak_kb=0
for src in crm web pos; do
    /usr/bin/time -f "%e %M" -o "$work/time" \
        "$bin/cdphub" -m "$work/m" import "$work/data/$src.ndjson" --source "$src" \
        --no-segments > "$work/$src.out"
    read -r secs kb < "$work/time"
    echo "import $src: ${secs}s, peak RSS $((kb / 1024)) MiB"
    grep -E "records stored|rejected  |rate" "$work/$src.out" | sed 's/^/    /'
    total_s=$(echo "$total_s + $secs" | bc)
    [ "$kb" -gt "$peak_kb" ] && peak_kb=$kb
done
echo "import total: $records records in ${total_s}s = $(echo "$records / $total_s" | bc) records/s," \
     "peak RSS $((peak_kb / 1024)) MiB"
/usr/bin/time -f "%e" -o "$work/time" "$bin/cdphub" -m "$work/m" segment evaluate > "$work/seg.out"
echo "segment evaluate (CLI, incl. start-up): $(cat "$work/time")s: $(cat "$work/seg.out")"
"$bin/cdphub" -m "$work/m" segment list 2>/dev/null | head -3

echo "== baseline: sqlite3 shell, same lines into one plain table, same disk"
cat "$work"/data/{crm,web,pos}.ndjson > "$work/all.ndjson"
/usr/bin/time -f "%e" -o "$work/time" sqlite3 "$work/plain.db" \
    "PRAGMA journal_mode=WAL;" "PRAGMA synchronous=FULL;" "CREATE TABLE lines (line TEXT);" \
    ".mode ascii" ".separator \"\\037\" \"\\n\"" ".import $work/all.ndjson lines" > /dev/null
echo "sqlite3 .import of $(wc -l < "$work/all.ndjson") lines: $(cat "$work/time")s"
/usr/bin/time -f "%e" -o "$work/time" sqlite3 "$work/var/cdphub.db" \
    "SELECT count(*) FROM profiles p WHERE p.merged_into IS NULL AND EXISTS (SELECT 1 FROM profile_traits t WHERE t.profile_id = p.id AND t.name = 'country' AND t.kind = 'string' AND t.value = 'DE') AND EXISTS (SELECT 1 FROM orders o WHERE o.profile_id = p.id AND o.occurred_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-365 days'));"
echo "sqlite3 plain SQL for de_buyers on the imported file: $(cat "$work/time")s"

echo "== segment evaluation and activation diff over 1,000,000 synthetic profiles"
"$bin/cdphub-engine-bench" --profiles=1000000
