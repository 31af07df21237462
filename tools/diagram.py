"""The README's state diagram, generated from the machine's transition rows (shared/domain/machine/flow.py).

    python tools/diagram.py          print it
    python tools/diagram.py --write  write it into README.md's ```mermaid block

tests/unit/test_state_diagram.py fails when README.md and the rows differ.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from shared.domain.machine.flow import diagram  # noqa: E402

BLOCK = re.compile(r"```mermaid\nstateDiagram-v2\n.*?```", re.S)


def readme_with_diagram(text: str) -> str:
    return BLOCK.sub(lambda _: f"```mermaid\n{diagram()}\n```", text, count=1)


if __name__ == "__main__":
    if "--write" in sys.argv:
        readme = ROOT / "README.md"
        readme.write_text(readme_with_diagram(readme.read_text()))
    else:
        print(diagram())
