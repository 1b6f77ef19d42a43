"""The README's examples are real code: here they must at least compile.

The repository's tests/sdk/test_readme_examples.py runs every one of them against a real
server with the demo data loaded.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

README = Path(__file__).parents[1] / "README.md"


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), flags=re.M | re.S)


def test_the_readme_has_examples() -> None:
    assert len(python_blocks()) >= 3


def test_every_example_compiles() -> None:
    for index, block in enumerate(python_blocks()):
        compile(block, f"README.md block {index}", "exec")


def test_the_mock_transport_example_runs() -> None:
    # The one example that needs no server: it must run, not only compile.
    (block,) = [block for block in python_blocks() if "httpx.MockTransport(" in block]
    exec(compile(block, "README.md mock transport example", "exec"), {})


def test_every_cli_example_is_a_valid_command_line() -> None:
    from govstore.cli import build_parser

    commands = re.findall(r"^\$ (govstore .*?)(?:\s+#.*)?$", README.read_text(), flags=re.M)
    assert len(commands) >= 7
    for command in commands:
        args = build_parser().parse_args(shlex.split(command)[1:])
        assert callable(args.handler), command
