"""Print the two command lines of the README's Quick start code block, one per line."""

import re
import sys
from pathlib import Path

readme = Path(__file__).resolve().parent.parent / "README.md"
section = readme.read_text().split("## Quick start", 1)[1]
block = re.search(r"```[a-z]*\n(.*?)```", section, re.S).group(1)
lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
if len(lines) != 2:
    sys.exit(f"README Quick start must hold exactly two command lines, found {len(lines)}: {lines}")
print("\n".join(lines))
