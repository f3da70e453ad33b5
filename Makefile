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

.PHONY: test demo bench docs clean
test: $(VENV)/.stamp-test+fftw
	$(BIN)/python -m pytest -q

demo: $(VENV)/.stamp-fftw+bench
	$(BIN)/fftconv demo

# The asv suite, in this environment, offline (no builds, no downloads).
bench: $(VENV)/.stamp-fftw+bench
	$(BIN)/asv machine --yes --machine fftconv-local > /dev/null
	$(BIN)/asv run --python=same --quick --machine fftconv-local --show-stderr

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
