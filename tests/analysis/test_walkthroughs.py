"""The walkthroughs in docs/spectrum.rst and docs/diffusion.rst run as written.

Each page's ``fftconv`` commands run through the CLI in a scratch directory, starting
with ``fftconv train`` (cut to one epoch), so the python blocks then read a real
LeNet-5 checkpoint at the path the page names. The python blocks run in order in one
namespace, once on that checkpoint and once with the page's named-kernel line in place
of the checkpoint line.
"""

import contextlib
import io
import pathlib
import re
import shlex

import pytest

from fftconv.cli import main

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
PAGES = ["spectrum.rst", "diffusion.rst"]
CHECKPOINT_LINE = re.compile(r"^w = files\.load_checkpoint\(.*$", re.M)
NAMED_LINE = re.compile(r"^# (w = .*)$", re.M)


def _blocks(text, language):
    """Bodies of the ``.. code-block:: language`` directives, dedented."""
    blocks = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.strip() == f".. code-block:: {language}":
            body = []
            for follow in lines[i + 1:]:
                if follow.strip() and not follow.startswith("    "):
                    break
                body.append(follow[4:])
            blocks.append("\n".join(body).strip("\n"))
    return blocks


def _commands(page):
    return [shlex.split(line.strip()[2:]) for block in _blocks((DOCS / page).read_text(),
                                                                "console")
            for line in block.splitlines() if line.strip().startswith("$ fftconv ")]


@pytest.fixture(scope="module", params=PAGES)
def ran_commands(request, tmp_path_factory):
    """Run a page's commands in a fresh directory; return the page and the directory."""
    page, workdir = request.param, tmp_path_factory.mktemp("walkthrough")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(workdir)
        mp.setenv("MPLBACKEND", "Agg")
        commands = _commands(page)
        assert commands[0][:2] == ["fftconv", "train"] and len(commands) >= 3
        with contextlib.redirect_stdout(io.StringIO()):
            for argv in commands:
                extra = ["--epochs", "1"] if argv[1] == "train" else []
                assert main(argv[1:] + extra) == 0, argv
    return page, workdir


def test_commands_write_their_figures(ran_commands):
    page, workdir = ran_commands
    for argv in _commands(page)[1:]:
        out = workdir / argv[argv.index("--out") + 1]
        pngs = [p for p in out.iterdir() if p.suffix == ".png"]
        assert pngs and all(p.stat().st_size > 10_000 for p in pngs), argv


@pytest.mark.parametrize("variant", ["checkpoint", "named"])
def test_python_walkthrough_runs(ran_commands, variant, monkeypatch):
    page, workdir = ran_commands
    monkeypatch.chdir(workdir)
    blocks = _blocks((DOCS / page).read_text(), "python")
    assert len(blocks) >= 5
    first = next(i for i, block in enumerate(blocks) if CHECKPOINT_LINE.search(block))
    assert NAMED_LINE.search(blocks[first])
    if variant == "named":
        blocks[first] = NAMED_LINE.sub(r"\1", CHECKPOINT_LINE.sub("", blocks[first]))
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in blocks:
            exec(compile(block, f"{page}:{variant}", "exec"), namespace)
    expected = (6, 1, 5, 5) if variant == "checkpoint" else None
    assert expected is None or namespace["w"].shape == expected
