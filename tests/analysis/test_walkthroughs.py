"""The walkthroughs in docs/spectrum.rst and docs/diffusion.rst run as written.

Every python block of a page runs in order in one namespace, once on a LeNet-5-shaped
checkpoint at the path the page names and once with the page's named-kernel line in
place of the checkpoint line; the page's ``fftconv`` commands (except ``train``, which
is the trainer's) run through the CLI.
"""

import contextlib
import io
import pathlib
import re
import shlex

import pytest

from fftconv.cli import main

from .conftest import LENET_SHAPES, write_checkpoint

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
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


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    import numpy as np

    rng = np.random.default_rng(5)
    (tmp_path / "runs" / "lenet5").mkdir(parents=True)
    params = {name: 0.3 * rng.standard_normal(shape) for name, shape in LENET_SHAPES.items()}
    write_checkpoint(tmp_path / "runs" / "lenet5" / "checkpoint.npz", params)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    return tmp_path


@pytest.mark.parametrize("variant", ["checkpoint", "named"])
@pytest.mark.parametrize("page", ["spectrum.rst", "diffusion.rst"])
def test_python_walkthrough_runs(page, variant, workdir):
    text = (DOCS / page).read_text()
    blocks = _blocks(text, "python")
    assert len(blocks) >= 5
    first = blocks[0] if CHECKPOINT_LINE.search(blocks[0]) else blocks[1]
    assert CHECKPOINT_LINE.search(first) and NAMED_LINE.search(first)
    if variant == "named":
        replaced = NAMED_LINE.sub(r"\1", CHECKPOINT_LINE.sub("", first))
        blocks[blocks.index(first)] = replaced
    namespace = {}
    with contextlib.redirect_stdout(io.StringIO()):
        for block in blocks:
            exec(compile(block, f"{page}:{variant}", "exec"), namespace)


@pytest.mark.parametrize("page", ["spectrum.rst", "diffusion.rst"])
def test_console_commands_run(page, workdir, capsys):
    commands = [line.strip()[2:] for block in _blocks((DOCS / page).read_text(), "console")
                for line in block.splitlines() if line.strip().startswith("$ fftconv ")]
    runnable = [c for c in commands if not c.startswith("fftconv train")]
    assert len(runnable) >= 2
    for command in runnable:
        assert main(shlex.split(command)[1:]) == 0, command
        out = workdir / shlex.split(command)[shlex.split(command).index("--out") + 1]
        assert any(p.suffix == ".png" for p in out.iterdir())
