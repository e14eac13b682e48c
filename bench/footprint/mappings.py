"""Where a Python host's RSS goes when it opens an engine and runs tasks: per mapping, and per section of libtasker.

    TASKER_LIBRARY_PATH=artifacts/lib/linux-x64/libtasker.so PYTHONPATH=bindings/python/src \\
        /usr/bin/python3 bench/footprint/mappings.py [tasks, default 10000]

Reads /proc/self/smaps (RSS and private dirty pages of each mapped file, anonymous memory as "[anon]") after opening
an engine and again after the tasks, and /proc/self/pagemap (which pages of libtasker are resident, by ELF section:
code, read-only data, unwind tables). Same engine and template as footprint.py. Linux only; pagemap needs root to
read page frames, but not the present bit used here. The runtime's type data, which NativeAOT expands at start into
`.hydrated` (no file pages), shows as "[anon]", not as a section.
"""
import collections
import gc
import os
import struct
import subprocess
import sys

import tasker

LIBRARY = os.path.realpath(os.environ["TASKER_LIBRARY_PATH"])
PAGE = os.sysconf("SC_PAGE_SIZE")


def mappings():
    """KB of RSS and of private dirty pages per mapped path."""
    kb, path = collections.Counter(), None
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split(None, 5)
            if "-" in fields[0] and len(fields) >= 5 and ":" in fields[3]:
                path = fields[5].strip() if len(fields) > 5 else "[anon]"
            elif fields[0] in ("Rss:", "Private_Dirty:"):
                kb[(path, fields[0])] += int(fields[1])
    return kb


def sections():
    """(name, address, size) of each ELF section of libtasker that has bytes in the file and is loaded."""
    out = []
    for line in subprocess.run(["readelf", "-SW", LIBRARY], capture_output=True, text=True, check=True).stdout.splitlines():
        fields = line.replace("[ ", "[").split()
        if len(fields) > 5 and fields[0].startswith("[") and fields[1].startswith((".", "_")):
            name, kind, address, size = fields[1], fields[2], int(fields[3], 16), int(fields[5], 16)
            if address != 0 and kind != "NOBITS":  # not loaded, or no file pages (.bss, .tbss, .hydrated)
                out.append((name, address, size))
    return out


def resident_pages():
    """Offsets (from the library's load address) of libtasker's pages that are resident in this process."""
    base, ranges = None, []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(None, 5)
            if len(fields) > 5 and fields[5].strip() == LIBRARY:
                low, high = (int(x, 16) for x in fields[0].split("-"))
                base = low - int(fields[2], 16) if base is None else base
                ranges.append((low, high))
    resident = set()
    with open("/proc/self/pagemap", "rb") as pagemap:
        for low, high in ranges:
            pagemap.seek(low // PAGE * 8)
            entries = pagemap.read((high - low) // PAGE * 8)
            for i in range((high - low) // PAGE):
                if struct.unpack_from("<Q", entries, i * 8)[0] >> 63:
                    resident.add(low + i * PAGE - base)
    return resident


def by_section(pages, layout):
    kb = collections.Counter()
    for page in pages:
        name = next((n for n, address, size in layout if address <= page < address + size or page <= address < page + PAGE), "?")
        kb[name] += PAGE // 1024
    return kb


class Noop(tasker.StepHandler):
    def process(self, context):
        return None


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    layout = sections()
    with tasker.Engine(concurrency=1, retention={"max_finished_tasks": 500}) as engine:
        with open(os.path.join(os.path.dirname(__file__), "noop.yaml"), encoding="utf-8") as template:
            engine.register_template(template.read())
        engine.register_handler("Noop", Noop)
        gc.collect()
        opened, opened_pages = mappings(), resident_pages()
        for _ in range(tasks):
            engine.handle(engine.create_task("noop", namespace="bench").uuid)
        gc.collect()
        ran, ran_pages = mappings(), resident_pages()
    print(f"KB per mapping: after opening, then added by {tasks:,} tasks (RSS / private dirty)")
    paths = {path for path, _ in list(opened) + list(ran)}
    rows = sorted(paths, key=lambda p: -(ran[(p, "Rss:")] + opened[(p, "Rss:")]))[:12]
    for path in rows:
        print(f"{opened[(path, 'Rss:')]:8} / {opened[(path, 'Private_Dirty:')]:<8} +{ran[(path, 'Rss:')] - opened[(path, 'Rss:')]:7}"
              f" / +{ran[(path, 'Private_Dirty:')] - opened[(path, 'Private_Dirty:')]:<7} {path}")
    print(f"\nKB of libtasker resident per section: after opening, then added by {tasks:,} tasks")
    at_open, added = by_section(opened_pages, layout), by_section(ran_pages - opened_pages, layout)
    for name in sorted(set(at_open) | set(added), key=lambda n: -(at_open[n] + added[n]))[:10]:
        print(f"{at_open[name]:8} +{added[name]:7} {name}")


if __name__ == "__main__":
    main()
