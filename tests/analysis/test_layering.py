"""analysis uses fftconv's public API only, and fftconv never imports analysis eagerly."""

import ast
import doctest
import importlib
import pathlib
import subprocess
import sys

import pytest

import analysis

# The public modules of fftconv (its __init__ and the documented submodules).
ALLOWED = {"fftconv", "fftconv.errors", "fftconv.checks", "fftconv.testing", "fftconv.nn",
           "fftconv.fftlib", "fftconv.bench", "fftconv.select"}
MODULES = sorted(p.stem for p in pathlib.Path(analysis.__file__).parent.glob("*.py")
                 if p.stem != "__init__")


@pytest.mark.parametrize("name", MODULES)
def test_analysis_imports_only_public_fftconv(name):
    tree = ast.parse(pathlib.Path(analysis.__file__).with_name(f"{name}.py").read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for module in names:
            if module.split(".")[0] == "fftconv":
                assert module in ALLOWED or module.startswith("fftconv.nn."), (name, module)


def test_fftconv_and_its_cli_parser_do_not_import_analysis():
    code = ("import sys, fftconv, fftconv.cli\n"
            "fftconv.cli.build_parser()\n"
            "assert not any(m == 'analysis' or m.startswith('analysis.') for m in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"analysis.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
