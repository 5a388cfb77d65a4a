"""Writes one benchmark's section of BENCHMARKS.md (atomically), stamped with the machine and date."""

import datetime
import os
import platform
import re
from pathlib import Path

from ser_engine.atomic import atomic_write_text

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = ("# Benchmarks\n\nEvery figure here is written by a script in `bench/`; each section names its script, "
          "the machine and the date it was measured (`make bench` runs the model's: training, inference, "
          "accuracy levers, voice activity).\n")


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30
    except (ValueError, OSError, AttributeError):
        mem = float("nan")
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB RAM, Python {platform.python_version()}, {platform.system()}"


def commit():
    """The commit measured: HEAD's short hash, with "+changes" when the tree's code differs from it."""
    import subprocess

    try:
        head = subprocess.run(["git", "rev-parse", "--short=10", "HEAD"], cwd=BENCHMARKS.parent, capture_output=True,
                              text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=BENCHMARKS.parent,
                               capture_output=True, text=True, check=True).stdout  # "XY path": keep the status
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    changed = [line[3:] for line in dirty.splitlines() if line.strip() and not _is_output(line[3:])]
    return head + ("+changes" if changed else "")


def _is_output(path):
    """What the benches themselves write: a change there is not a change to the code measured
    (a run beside an earlier one in the same checkout would otherwise read as modified code)."""
    return path == "BENCHMARKS.md" or path.startswith("bench/results/")


def stamp(measured=None, on=None):
    """The section's stamp; ``measured`` and ``on``: the commit the figures came from and the day
    they were measured (ISO), when a section is written again later from saved results (default:
    this checkout's, today)."""
    return (f"_Measured {on or datetime.date.today().isoformat()} on {machine()}, commit {measured or commit()}; "
            f"script `{{script}}`._")


def write_section(name, title, body, script, *, measured=None, on=None):
    """Replace (or append) the section ``name`` of BENCHMARKS.md (see :func:`stamp`)."""
    text = BENCHMARKS.read_text(encoding="utf-8") if BENCHMARKS.exists() else HEADER
    block = (f"<!-- {name} -->\n## {title}\n\n{stamp(measured, on).format(script=script)}\n\n{body.strip()}\n"
             f"<!-- /{name} -->")
    pattern = re.compile(rf"<!-- {re.escape(name)} -->.*?<!-- /{re.escape(name)} -->", re.S)
    text = pattern.sub(lambda m: block, text) if pattern.search(text) else text.rstrip() + "\n\n" + block + "\n"
    atomic_write_text(BENCHMARKS, text)
