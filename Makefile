# Two entry points: `make demo` (set up, then run the main job) and `make test`.
# Everything is installed into a local virtual environment by these rules.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean browser

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The pinned CPU wheel first: a bare `torch` requirement would pull a multi-GB CUDA build.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e ".[dev,ray,bam]"
	# AttentiveChrome's fused CPU kernel (this CPU's build and one without AVX2, which the tests
	# check against torch.nn.LSTM), compiled once here rather than in the first run
	$(VENV)/bin/simplechrome build-kernels
	touch $@

# Headless Chromium renders the HTML report in a test. Installed from Debian's packages where
# this user may (root with apt-get, as on CI); elsewhere that one test skips.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: chromium not installed and cannot be here; the report rendering test will skip"; fi; }

demo: $(STAMP)
	$(VENV)/bin/simplechrome demo

# Two pytest workers (pytest-xdist), one core and one torch thread each: the suite's many
# single-threaded parts (scikit-learn, subprocesses, Chromium, data preparation) overlap; tests
# marked xdist_group("ray") run on one worker, one after another (a `ray start` cluster is what
# a concurrent ray.init() would connect to).
TEST_WORKERS ?= 2
test: $(STAMP) browser
	$(VENV)/bin/ruff check src tests benchmarks
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup --durations=15

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/core.py --data ../shared/data/E012 --json benchmarks/core.json

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info
