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

.PHONY: test demo docs parity clean
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

# The asv suite (docs/benchmarking.rst), in this environment, offline: no builds, no
# downloads. Every target uses one machine name, so results recorded by one target are
# the ones the others compare and publish. ASV_PYTHONPATH makes asv's benchmark
# processes import this checkout, whatever the environment has installed.
ASV_MACHINE ?= fftconv-local
ASV         := ASV_PYTHONPATH=$(CURDIR) $(BIN)/asv
# What the timings depend on: a commit's results must be those of its code.
MEASURED    := fftconv analysis benchmarks asv.conf.json setup.cfg pyproject.toml

.PHONY: bench bench-record bench-compare bench-site asv-machine
asv-machine: $(VENV)/.stamp-fftw+bench
	$(ASV) machine --yes --machine $(ASV_MACHINE) > /dev/null

# Quick: every benchmark once, to check that each runs; nothing is kept.
bench: asv-machine
	$(ASV) run --python=same --quick --machine $(ASV_MACHINE) --show-stderr

# Real timings of the current commit, kept in .asv/results/$(ASV_MACHINE)/.
# ASV_BENCH=<regex> restricts the run (asv run -b), e.g. ASV_BENCH=Conv2d.time_forward.
bench-record: asv-machine
	@if [ -n "$$(git status --porcelain --untracked-files=all -- $(MEASURED))" ]; then \
	  echo "bench-record: the working tree has uncommitted changes in $(MEASURED);" >&2; \
	  echo "  the results would be filed under commit $$(git rev-parse --short HEAD) without being its code." >&2; \
	  echo "  Commit or stash them first (git status)." >&2; exit 1; fi
	$(ASV) run --python=same --machine $(ASV_MACHINE) --show-stderr \
	  --set-commit-hash $$(git rev-parse HEAD) $(if $(ASV_BENCH),--bench '$(ASV_BENCH)')

# Two recorded commits side by side: make bench-compare A=<commit> B=<commit>.
bench-compare: $(VENV)/.stamp-fftw+bench
	@if [ -z "$(A)" ] || [ -z "$(B)" ]; then \
	  echo "bench-compare: name two recorded commits, e.g. make bench-compare A=main B=HEAD" >&2; exit 1; fi
	$(ASV) compare --machine $(ASV_MACHINE) --split $$(git rev-parse $(A)) $$(git rev-parse $(B))

# The HTML site of every recorded result: .asv/html/index.html (asv preview serves it).
bench-site: $(VENV)/.stamp-fftw+bench
	$(ASV) publish
	@echo "bench-site: open .asv/html/index.html, or run '$(BIN)/asv preview' and browse the address it prints"

# scipy's and scikit-image's own tests against fftconv (docs/conventions.rst, "Parity");
# minutes of CPU, not part of `make test`. SKIMAGE_SRC: a scikit-image git checkout.
parity: $(VENV)/.stamp-test+fftw
	PYTHONPATH=. $(BIN)/python -m tools.parity.run $(if $(SKIMAGE_SRC),--skimage-src $(SKIMAGE_SRC),--only scipy)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
	rm -rf docs/_build docs/auto_examples docs/generated docs/sg_execution_times.rst
