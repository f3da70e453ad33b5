"""analysis uses fftconv's public API only, and fftconv never imports analysis at all.

"At all" includes function-level imports and ``importlib.import_module`` /
``__import__`` calls with a literal module name: the command line reaches the
analysis subcommands through entry points (group ``fftconv.commands``), not imports.
"""

import ast
import doctest
import importlib
import pathlib
import subprocess
import sys

import pytest

import analysis
import fftconv

# The public modules of fftconv (its __init__ and the documented submodules).
ALLOWED = {"fftconv", "fftconv.errors", "fftconv.checks", "fftconv.testing", "fftconv.nn",
           "fftconv.fftlib", "fftconv.bench", "fftconv.select", "fftconv.overlap_save",
           "fftconv.optional", "fftconv.dask", "fftconv.spectral", "fftconv.style",
           "fftconv.text", "fftconv.blas", "fftconv.commands.options"}
ANALYSIS_ROOT = pathlib.Path(analysis.__file__).parent
MODULES = sorted(".".join(p.relative_to(ANALYSIS_ROOT).with_suffix("").parts)
                 for p in ANALYSIS_ROOT.rglob("*.py") if p.stem != "__init__")
FFTCONV_ROOT = pathlib.Path(fftconv.__file__).parent
FFTCONV_FILES = sorted(FFTCONV_ROOT.rglob("*.py"))


def _absolute(module, level, path, root, package):
    """The absolute name of ``from <level dots><module> import ...`` in file ``path``."""
    if level == 0:
        return module or ""
    # A module's package and an __init__'s package are both its directory.
    parts = [package, *path.relative_to(root).parent.parts]
    base = parts[:len(parts) - (level - 1)]
    return ".".join(base + ([module] if module else []))


def imported_names(path, root, package):
    """Every module name a file imports, anywhere in it (functions included).

    Covers ``import a.b``, ``from a import b`` (absolute and relative, resolved
    against the file's package), and calls ``importlib.import_module("a.b")``,
    ``import_module("a.b")`` and ``__import__("a.b")`` with a literal first argument.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module, node.level, path, root, package)
            names.append(base)
            names += [f"{base}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.append(arg.value)
                elif isinstance(arg, ast.JoinedStr) and arg.values and isinstance(
                        arg.values[0], ast.Constant):
                    names.append(str(arg.values[0].value))   # f"analysis.{name}"
    return names


def _names_analysis(module):
    return module == "analysis" or module.startswith("analysis.")


@pytest.mark.parametrize("path", FFTCONV_FILES,
                         ids=[str(p.relative_to(FFTCONV_ROOT)) for p in FFTCONV_FILES])
def test_fftconv_imports_nothing_from_analysis_not_even_lazily(path):
    bad = [m for m in imported_names(path, FFTCONV_ROOT, "fftconv") if _names_analysis(m)]
    assert not bad, (str(path), bad)


def test_the_import_scanner_sees_lazy_relative_and_string_imports(tmp_path):
    pkg = tmp_path / "fftconv" / "sub"
    pkg.mkdir(parents=True)
    source = pkg / "mod.py"
    source.write_text(
        "def f():\n"
        "    import analysis.spectrum\n"
        "    from analysis import matching\n"
        "    from .. import errors\n"
        "    from . import sibling\n"
        "    importlib.import_module('analysis.plots')\n"
        "    import_module(f'analysis.{name}')\n", encoding="utf-8")
    names = imported_names(source, tmp_path / "fftconv", "fftconv")
    assert [m for m in names if _names_analysis(m)] == [
        "analysis.spectrum", "analysis", "analysis.matching", "analysis.plots", "analysis."]
    assert "fftconv.errors" in names and "fftconv.sub.sibling" in names


@pytest.mark.parametrize("name", MODULES)
def test_analysis_imports_only_public_fftconv(name):
    tree = ast.parse((ANALYSIS_ROOT / f"{name.replace('.', '/')}.py").read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for module in names:
            if module.split(".")[0] == "fftconv":
                assert module in ALLOWED or module.startswith("fftconv.nn."), (name, module)


def test_importing_every_fftconv_module_loads_no_analysis_module():
    names = sorted(".".join(("fftconv", *p.relative_to(FFTCONV_ROOT).with_suffix("").parts))
                   .removesuffix(".__init__") for p in FFTCONV_FILES
                   if p.stem != "__main__")           # __main__ runs the command
    code = ("import importlib, sys\n"
            f"for name in {names!r}:\n"
            "    importlib.import_module(name)\n"
            "assert not any(m == 'analysis' or m.startswith('analysis.') for m in sys.modules)\n")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_analysis_commands_are_entry_points_of_the_fftconv_group():
    from fftconv.cli import command_entry_points

    values = {ep.name: ep.value for ep in command_entry_points()}
    for name in ("demo", "cost", "spectrum", "diffuse", "match"):
        assert values[name] == f"analysis.commands.{name}:register"
    for name in ("bench", "calibrate", "train"):
        assert values[name] == f"fftconv.commands.{name}:register"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"analysis.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
