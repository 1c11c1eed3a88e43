# Everything runs from .venv, which the first target that needs it creates.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := env HASHMON_REDIS_URL= HASHMON_DATA_DIR=$(CURDIR)/.demo

.PHONY: setup run demo test lint bench bench-coordination bench-engine bench-report bench-api bench-startup soak sample clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is needed") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet --editable '.[dev]'
	touch $@

setup: $(BIN)/.installed

run: setup  ## the daemon on the embedded Redis: the tags of seeds/watchlists.toml from seeds/sources.toml
	$(BIN)/hashmon run --watchlists seeds/watchlists.toml --sources seeds/sources.toml

demo: setup  ## the sample campaign in a separate data directory (.demo), then its reports
	$(DEMO) $(BIN)/hashmon watch load seeds/watchlists.toml
	$(DEMO) $(BIN)/hashmon import seeds/sample-campaign.jsonl
	$(DEMO) $(BIN)/hashmon report '#IRGCOutOfIraq'
	$(DEMO) $(BIN)/hashmon report --list default --since 48h

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# pytest-xdist workers, each with its own Redis (or database); 0 runs the tests in one process
TEST_PROCESSES ?= 2

test: lint  ## linters, strict type checks, then the tests against a real Redis
	$(BIN)/pytest --numprocesses $(TEST_PROCESSES) --dist worksteal

bench: setup  ## import + aggregation throughput, then 1/2/4 aggregator processes, lag, memory
	$(BIN)/python -m tests.benchmark
	$(BIN)/python -m tests.bench_scale

soak: setup  ## the fault suite, with the random-moment kills at 200,000 posts and 30 kills
	HASHMON_SOAK_POSTS=200000 HASHMON_SOAK_KILLS=30 $(BIN)/pytest -p no:cacheprovider \
		tests/test_kill_roles.py tests/test_faults.py tests/test_crash.py

bench-coordination: setup  ## 1M posts with planted cells: import to network, new posts, the Toolkit
	$(BIN)/python -m tests.bench_coordination

bench-engine: setup  ## import + four networks vs the Toolkit's on one file; CPU and bytes per post; 1/2/4 aggregators
	$(BIN)/python -m tests.bench_engine

bench-report: setup  ## JSON report latency on a tag of 1M posts, kept ready by the reporter
	$(BIN)/python -m tests.bench_report

bench-api: setup  ## /healthz and memory of a daemon while twenty clients send hostile parameters
	$(BIN)/python -m tests.bench_api

bench-startup: setup  ## seconds from exec to exit of hashmon --version, --help, watch list
	$(BIN)/python -m tests.bench_startup

sample: setup  ## regenerate seeds/sample-campaign.jsonl (deterministic)
	$(BIN)/python -m seeds.make_sample_campaign

clean:
	rm -rf $(VENV) .demo .mypy_cache .ruff_cache .pytest_cache
