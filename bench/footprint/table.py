"""Turns run.sh's lines (label TAB footprint JSON) into the markdown table of issue 17, one column per cell."""
import json
import sys

cells = []
for line in sys.stdin:
    label, payload = line.rstrip("\n").split("\t", 1)
    cells.append((label, json.loads(payload)))

header = [f"{c['language'].split()[0]} {c['language'].split()[1]} ({label})" for label, c in cells]
rows = [("bare interpreter (MB)", [c["bare"] for _, c in cells]),
        ("after import + open (MB)", [c["open"] for _, c in cells]),
        ("opening added, RSS (MB)", [c["open"] - c["bare"] for _, c in cells]),
        ("opening added, private dirty pages (MB)",
         [c["open_private"] - c["bare_private"] for _, c in cells])]
for i, point in enumerate(cells[0][1]["checkpoints"]):
    rows.append((f"after {point['tasks']:,} tasks (MB)", [c["checkpoints"][i]["rss"] for _, c in cells]))
for i, point in enumerate(cells[0][1]["checkpoints"]):
    rows.append((f"us per step, tasks {cells[0][1]['checkpoints'][i - 1]['tasks'] if i else 0:,}-{point['tasks']:,}",
                 [c["checkpoints"][i]["us_per_step"] for _, c in cells]))
rows.append(("of which V8's heap (Node), at the last checkpoint (MB)",
             [c["checkpoints"][-1].get("v8_heap_total") for _, c in cells]))
rows.append(("of which V8's young generation (Node), at the last checkpoint (MB)",
             [c["checkpoints"][-1].get("v8_new_space") for _, c in cells]))
rows.append(("added at steady state (last - open, MB)", [c["checkpoints"][-1]["rss"] - c["open"] for _, c in cells]))
rows.append(("added at steady state, private dirty pages (MB)",
             [c["checkpoints"][-1]["private"] - c["open_private"] for _, c in cells]))


def memory(cell, key):
    m = cell.get("memory") or {}
    value = m.get(key, m.get("".join(w if i == 0 else w.title() for i, w in enumerate(key.split("_")))))
    return None if value is None else value / 1048576


rows.append(("libtasker managed heap at the end (MB)", [memory(c, "heap_size_bytes") for _, c in cells]))
rows.append(("libtasker GC committed at the end (MB)", [memory(c, "committed_bytes") for _, c in cells]))

print("| | " + " | ".join(header) + " |")
print("|---|" + "---:|" * len(header))
for name, values in rows:
    print(f"| {name} | " + " | ".join("n/a" if v is None else f"{v:.1f}" for v in values) + " |")
