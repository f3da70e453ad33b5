"""The install needs numpy, scipy and threadpoolctl only: matplotlib (the ``plots``
extra), tqdm (``progress``) and scikit-learn (``test``) are optional.

The checks that run without them start a fresh interpreter in which importing any
of the three fails as if it were not installed.
"""

import ast
import configparser
import pathlib
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from fftconv import optional

ROOT = pathlib.Path(__file__).resolve().parents[1]
OPTIONAL = ("matplotlib", "tqdm", "sklearn")

#: Prepended to each script: importing an optional package fails, as when it is absent.
BLOCK = textwrap.dedent(f"""
    import importlib.abc, sys

    class _Absent(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in {OPTIONAL!r}:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, _Absent())
""")


def run_without_optional(code, tmp_path=None):
    """Run ``code`` with the optional packages absent; its stdout and stderr."""
    proc = subprocess.run([sys.executable, "-c", BLOCK + textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout, proc.stderr


def test_install_requires_is_numpy_scipy_threadpoolctl():
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    names = {line.split(">")[0].split("=")[0].strip()
             for line in cfg["options"]["install_requires"].split("\n") if line.strip()}
    assert names == {"numpy", "scipy", "threadpoolctl"}
    extras = cfg["options.extras_require"]
    assert extras["plots"].split() == ["matplotlib>=3.7"]
    assert extras["progress"].split() == ["tqdm>=4.60"]
    for extra, needs in [("test", ["scikit-learn>=1.2", "%(plots)s", "%(progress)s"]),
                         ("bench", ["torch==2.13.0", "%(plots)s", "%(progress)s"]),
                         ("docs", ["%(plots)s"])]:
        assert set(needs) <= set(extras.get(extra, raw=True).split()), extra
    # torch only ever exactly pinned (an unpinned one pulls a multi-GB CUDA build)
    torch = [line for line in extras.get("dev").split() if line.startswith("torch")]
    assert set(torch) == {"torch==2.13.0"}


def _imports(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module


SOURCES = sorted([*(ROOT / "fftconv").rglob("*.py"), *(ROOT / "analysis").rglob("*.py")])


@pytest.mark.parametrize("path", SOURCES, ids=[str(p.relative_to(ROOT)) for p in SOURCES])
def test_optional_packages_are_imported_only_through_require(path):
    """No ``import matplotlib`` or ``from tqdm import ...`` anywhere, not even in a
    function: fftconv.optional.require gives the error that names the extra."""
    bad = [m for m in _imports(path) if m.partition(".")[0] in OPTIONAL]
    assert not bad, bad


def test_every_module_imports_and_the_cli_helps_without_them():
    names = sorted({".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                    for p in SOURCES if p.stem != "__main__"})
    out, _ = run_without_optional(f"""
        import contextlib, importlib, io
        for name in {names!r}:
            importlib.import_module(name)
        from fftconv.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as text:
            try:
                main(["--help"])
            except SystemExit as exc:
                assert exc.code == 0, exc.code
        assert "train" in text.getvalue() and "unavailable" not in text.getvalue()
        assert not [m for m in sys.modules if m.partition(".")[0] in {OPTIONAL!r}]
        print("ok")
    """)
    assert out.strip() == "ok"


def test_training_on_the_shipped_digits_without_them_prints_plain_progress():
    out, err = run_without_optional("""
        import numpy as np
        from fftconv import nn
        x, y = nn.load_digits(size=8)
        assert x.shape == (1797, 1, 8, 8)
        net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10, seed=0))
        nn.fit(net, x[:64], y[:64], epochs=2, batch_size=32, progress=True)
        print("quiet:", file=sys.stderr)
        nn.fit(net, x[:64], y[:64], epochs=1, batch_size=32, verbose=0)
    """)
    # no tqdm and no terminal: one plain line per epoch; verbose=0: nothing
    lines = err.splitlines()
    assert len(lines) == 3 and lines[2] == "quiet:", err
    assert [line.split(":")[0] for line in lines[:2]] == ["epoch 1/2", "epoch 2/2"], err


@pytest.mark.parametrize("call, func", [
    ("from fftconv.nn.plots import training_curves_figure as f\n"
     "f(nn.History(loss=[1.0], accuracy=[0.5], seconds=[1.0]))", "training_curves_figure"),
    ("from fftconv.nn.plots import filters_figure as f\nf(np.ones((2, 1, 3, 3)))",
     "filters_figure"),
    ("from fftconv.bench import crossover_figure as f\nf([])", "crossover_figure"),
    ("from analysis.plots import filter_spectra_figure as f\nf(np.ones((2, 1, 3, 3)))",
     "filter_spectra_figure"),
    ("from analysis.plots import radial_profile_figure as f\nf(np.ones((2, 1, 3, 3)))",
     "radial_profile_figure"),
    ("from analysis.files import save_figure as f\nf(object(), 'x.png')", "save_figure"),
    ("from analysis.report import Report\nReport('t').section('s').figure(object(), 'c')",
     "Section.figure"),
    ("from analysis.demo import run_demo, QUICK\nrun_demo('never-written', QUICK)",
     "run_demo"),
])
def test_a_plotting_function_without_matplotlib_names_itself_and_the_extra(call, func):
    out, _ = run_without_optional(f"""
        import numpy as np
        from fftconv import nn
        try:
            {call.replace(chr(10), chr(10) + " " * 12)}
        except ImportError as exc:
            print(exc)
    """)
    assert out.strip() == (f"{func} needs matplotlib, which is not installed; install it "
                           "with pip install 'fftconv[plots]'")
    assert not (ROOT / "never-written").exists()


def test_the_cli_reports_a_missing_plots_extra_before_the_sweep():
    _, err = run_without_optional("""
        from fftconv.cli import main
        assert main(["bench", "--kernels", "3", "--sizes", "8", "--channels", "1"]) == 1
    """)
    assert err.strip() == ("fftconv bench: error: fftconv bench (its crossover figure; "
                           "--no-figure skips it) needs matplotlib, which is not installed; "
                           "install it with pip install 'fftconv[plots]'")


def test_fftconv_train_without_matplotlib_skips_the_figures_and_says_so(tmp_path):
    from tests.nn.test_data import write_mnist

    (tmp_path / "data").mkdir()
    write_mnist(tmp_path / "data", "t10k", 24)
    out, err = run_without_optional(f"""
        from fftconv.cli import main
        assert main(["train", "--data", {str(tmp_path / 'data')!r}, "--epochs", "1",
                     "--test-size", "8", "--backend", "im2col",
                     "--out", {str(tmp_path / 'run')!r}]) == 0
    """)
    assert "matplotlib is not installed, so the two PNG figures are skipped" in err
    assert "pip install 'fftconv[plots]'" in err
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["history.json",
                                                                    "model.npz"]


# -- fftconv.optional itself ----------------------------------------------------------

def test_require_returns_the_module_or_names_the_distribution_to_install():
    assert optional.require("numpy.linalg", "plots", "f") is np.linalg
    out, _ = run_without_optional("""
        from fftconv.optional import require
        for module, extra in [("sklearn.datasets", "test"), ("tqdm.auto", "progress")]:
            try:
                require(module, extra, "my_func")
            except ImportError as exc:
                print(exc, "|", exc.name)
    """)
    assert out.splitlines() == [
        "my_func needs scikit-learn, which is not installed; install it with "
        "pip install 'fftconv[test]' | sklearn",
        "my_func needs tqdm, which is not installed; install it with "
        "pip install 'fftconv[progress]' | tqdm"]


def test_require_message_and_a_broken_installed_package_keeps_its_own_error(tmp_path,
                                                                              monkeypatch):
    with pytest.raises(ImportError, match=r"^my_plot needs no_such_pkg_xyz, which is not "
                                          r"installed; install it with pip install "
                                          r"'fftconv\[plots\]'$"):
        optional.require("no_such_pkg_xyz.sub", "plots", "my_plot")
    (tmp_path / "brokenpkg_xyz").mkdir()
    (tmp_path / "brokenpkg_xyz" / "__init__.py").write_text("import missing_dep_of_it_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="missing_dep_of_it_xyz"):
        optional.require("brokenpkg_xyz", "plots", "my_plot")
    with pytest.raises(ModuleNotFoundError, match="missing_dep_of_it_xyz"):
        optional.available("brokenpkg_xyz")
    assert optional.available("numpy") and not optional.available("no_such_pkg_xyz")


def test_progress_bar_is_tqdm_when_installed_and_quiet_when_disabled(capsys):
    tqdm = pytest.importorskip("tqdm")
    bar = optional.progress_bar(3, desc="x", enabled=False)
    assert isinstance(bar, tqdm.tqdm)
    bar.update(3)
    bar.close()
    assert capsys.readouterr().err == ""


# -- torch: the bridge's own dependency ------------------------------------------------

#: Prepended to a script: importing torch fails, as when it is not installed, and every
#: attempt is recorded (so a guarded ``try: import torch`` is seen too).
NO_TORCH = textwrap.dedent("""
    import importlib.abc, sys

    TRIED = []

    class _NoTorch(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] == "torch":
                TRIED.append(name)
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None

    sys.meta_path.insert(0, _NoTorch())
""")


def test_import_fftconv_never_imports_torch_and_the_bridge_names_its_extra():
    names = sorted({".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                    for p in SOURCES if p.stem != "__main__"} - {"fftconv.torch"})
    code = f"""
        for name in {names!r}:
            importlib.import_module(name)
        assert TRIED == [], TRIED           # not even a guarded attempt
        try:
            import fftconv.torch
        except ImportError as exc:
            print(exc)
    """
    proc = subprocess.run([sys.executable, "-c", NO_TORCH + "import importlib\n"
                           + textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("fftconv.torch needs torch, which is not installed; "
                                   "install it with pip install 'fftconv[bench]'")
