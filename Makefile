# fftconv: every target creates the virtual environment it needs, so a fresh
# clone needs nothing but `make demo` and `make test` (see README.md).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip --disable-pip-version-check -q

# One stamp per set of extras; reinstalled when the package metadata changes.
$(VENV)/.stamp-%: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install -e '.[$(subst +,$(comma),$*)]'
	touch $@

comma := ,

.PHONY: test demo bench docs parity clean
test: $(VENV)/.stamp-test+fftw
	$(BIN)/python -m pytest -q

# The demo: benchmark, train, analyse, report (fftconv-report/index.html).
demo: $(VENV)/.stamp-fftw+bench
	$(BIN)/fftconv demo

# The documentation, offline, warnings as errors; the gallery examples run during
# the build (they use the bench extra's peers: torch, scikit-image, dask-image).
# Open docs/_build/html/index.html.
docs: $(VENV)/.stamp-docs+fftw+bench
	MPLBACKEND=Agg $(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

# The asv suite, in this environment, offline (no builds, no downloads).
bench: $(VENV)/.stamp-fftw+bench
	$(BIN)/asv machine --yes --machine fftconv-local > /dev/null
	$(BIN)/asv run --python=same --quick --machine fftconv-local --show-stderr

# scipy's and scikit-image's own tests against fftconv (docs/conventions.rst, "Parity");
# minutes of CPU, not part of `make test`. SKIMAGE_SRC: a scikit-image git checkout.
parity: $(VENV)/.stamp-test+fftw
	PYTHONPATH=. $(BIN)/python -m tools.parity.run $(if $(SKIMAGE_SRC),--skimage-src $(SKIMAGE_SRC),--only scipy)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst
