# pager: every target sets up what it needs from a fresh Debian machine (as root).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv mosquitto systemd-analyze browser test lint typecheck pytest demo bench chaos clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# Mosquitto is needed by the end-to-end tests, the demo and the benchmarks.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mosquitto; }

# `systemd-analyze verify` checks the unit file (tests/shell/test_systemd_unit.py).
systemd-analyze:
	@command -v systemd-analyze >/dev/null 2>&1 || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq systemd; }
# Debian's Chromium and its driver, for the status page's browser tests (tests/web);
# selenium is pointed at both, so nothing is downloaded at test time.
browser:
	@{ test -x /usr/bin/chromium && test -x /usr/bin/chromedriver; } || \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; }

lint: venv
	$(BIN)/ruff check pager tests bench testkit scripts
	$(BIN)/ruff format --check pager tests bench testkit scripts

typecheck: venv
	$(BIN)/mypy

pytest: venv mosquitto systemd-analyze browser
	$(BIN)/pytest

test: lint typecheck pytest

demo: venv mosquitto
	$(BIN)/python -m scripts.demo

bench: venv mosquitto
	$(BIN)/python -m bench.run $(BENCH_ARGS)

chaos: venv mosquitto
	$(BIN)/pytest -m chaos tests/chaos

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
