"""Print the two command lines of the README's Quick start code block, one per line.

The block starts with the line that makes and activates a virtualenv, so that a paste never installs
into the system's Python. `.ci/run` has made and activated a fresh virtualenv of its own (outside the
clone) before it asks for these lines, so that line is checked, not printed: what CI runs are the two
commands after it, as written.
"""

import re
import sys
from pathlib import Path

VENV = "python3 -m venv .venv && . .venv/bin/activate"

readme = Path(__file__).resolve().parent.parent / "README.md"
section = readme.read_text(encoding="utf-8").split("## Quick start", 1)[1]
block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
if not lines or lines[0] != VENV:
    sys.exit(f"README Quick start must start with the virtualenv line {VENV!r}, found {lines[:1]}")
commands = lines[1:]
if len(commands) != 2:
    sys.exit(f"README Quick start must hold exactly two command lines after the virtualenv, found {commands}")
print("\n".join(commands))
