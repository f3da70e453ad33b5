"""pytest plugin: run scipy's and scikit-image's own tests against fftconv.

Loaded with ``-p tools.parity.plugin`` (see ``tools/parity/run.py``).  After collection
it replaces, in every collected test module and in ``scipy.signal``, the functions
named in :mod:`tools.parity.adapters` by their adapters, deselects the tests listed in
:mod:`tools.parity.exclusions` (each with its reason), and at the end prints passed /
failed per function under test and the failures grouped by class (exception type and
the message's first line with numbers blanked).
"""

from __future__ import annotations

import collections
import re
import sys

import pytest

from . import adapters, exclusions

# test module/class/function name -> the function it tests
_SUBJECTS = [
    (r"test_signaltools\.py::TestConvolve2d", "convolve2d"),
    (r"test_signaltools\.py::TestConvolve\b", "convolve"),
    (r"test_signaltools\.py::test_convolve_longdtype_input", "convolve/fftconvolve"),
    (r"test_signaltools\.py::TestFFTConvolve", "fftconvolve"),
    (r"test_signaltools\.py::TestOAConvolve", "oaconvolve"),
    (r"test_signaltools\.py::TestAllFreqConvolves", "fftconvolve/oaconvolve"),
    (r"test_signaltools\.py::TestCorrelate2d", "correlate2d"),
    (r"test_signaltools\.py::TestCorrelate", "correlate"),
    (r"test_signaltools\.py::test_choose_conv_method", "choose_conv_method"),
    (r"test_template\.py", "match_template"),
    (r"test_masked_phase_cross_correlation\.py::test_cross_correlate", "cross_correlate_masked"),
    (r"test_masked_phase_cross_correlation\.py", "masked registration"),
    (r"test_phase_cross_correlation\.py", "phase_cross_correlation"),
]

# The scipy tests of these functions: TestConvolve etc. (test_signaltools.py holds
# many other functions' tests too).
SCIPY_SELECTION = ("TestConvolve or TestFFTConvolve or TestOAConvolve or TestAllFreqConvolves"
                   " or test_convolve_longdtype_input or TestCorrelateReal or"
                   " TestCorrelateComplex or TestCorrelate2d or (TestCorrelate and not"
                   " TestCorrelateReal and not TestCorrelateComplex and not TestCorrelate2d)"
                   " or test_choose_conv_method")


def subject(nodeid: str) -> str:
    for pattern, name in _SUBJECTS:
        if re.search(pattern, nodeid):
            return name
    return "other"


def failure_class(report) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    first = text.strip().splitlines()[0] if text.strip() else "?"
    first = re.sub(r"0x[0-9a-f]+", "0x…", first)
    first = re.sub(r"\d+(\.\d+)?(e[-+]?\d+)?", "#", first)
    return first[:150]


class ParityPlugin:
    def __init__(self):
        self.outcomes = collections.defaultdict(collections.Counter)
        self.classes = collections.defaultdict(collections.Counter)
        self.examples = {}
        self.excluded = collections.Counter()
        self._saved = []

    def _patch(self, obj, names):
        for name, func in names.items():
            if hasattr(obj, name):
                self._saved.append((obj, name, getattr(obj, name)))
                setattr(obj, name, func)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config, items):
        import scipy.signal
        self._patch(scipy.signal, adapters.SCIPY)
        seen = set()
        for item in items:
            module = getattr(item, "module", None)
            if module is not None and id(module) not in seen:
                seen.add(id(module))
                self._patch(module, adapters.SCIPY)
                self._patch(module, adapters.SKIMAGE)
        keep, drop = [], []
        for item in items:
            reason = exclusions.reason(item.nodeid)
            (drop if reason else keep).append(item)
            if reason:
                self.excluded[(subject(item.nodeid), reason)] += 1
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            name = subject(report.nodeid)
            outcome = report.outcome
            self.outcomes[name][outcome] += 1
            if outcome == "failed":
                cls = failure_class(report)
                self.classes[name][cls] += 1
                self.examples.setdefault((name, cls), report.nodeid)

    def pytest_unconfigure(self, config):
        for obj, name, value in reversed(self._saved):
            setattr(obj, name, value)

    def pytest_terminal_summary(self, terminalreporter):
        write = terminalreporter.write_line
        write("")
        write("fftconv parity: outcomes per function under test")
        total = collections.Counter()
        for name in sorted(self.outcomes):
            counts = self.outcomes[name]
            total.update(counts)
            write(f"  {name:28s} passed {counts['passed']:6d}  failed {counts['failed']:5d}"
                  f"  skipped {counts['skipped']:4d}")
        write(f"  {'TOTAL':28s} passed {total['passed']:6d}  failed {total['failed']:5d}"
              f"  skipped {total['skipped']:4d}")
        if self.excluded:
            write("excluded (scipy's / scikit-image's internals, see tools/parity/exclusions.py):")
            for (name, reason), n in sorted(self.excluded.items()):
                write(f"  {name:28s} {n:5d}  {reason}")
        if self.classes:
            write("failures by class:")
            for name in sorted(self.classes):
                for cls, n in self.classes[name].most_common():
                    write(f"  {name:28s} {n:5d}  {cls}")
                    write(f"  {'':28s}        e.g. {self.examples[(name, cls)]}")


def pytest_configure(config):
    config.pluginmanager.register(ParityPlugin(), "fftconv-parity")
