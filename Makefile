# SER Studio: `make run` opens the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the app uses: libpulse0 for QtMultimedia playback (the app still runs without it).
APT_PACKAGES := libpulse0

.PHONY: setup run test bench clean system-packages

setup: $(STAMP)

$(STAMP): pyproject.toml
	@$(MAKE) --no-print-directory system-packages
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) is required (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Best effort: installs missing Debian packages when run as root; otherwise says what is missing.
system-packages:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing Debian packages:$$missing"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing) >/dev/null \
			|| echo "warning: could not install$$missing; audio playback will be off"; \
	else \
		echo "note: missing Debian packages:$$missing (sudo apt-get install$$missing); audio playback will be off"; \
	fi

run: setup
	$(VENV)/bin/ser-studio

test: setup
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q tests

bench: setup
	$(PY) bench/bench_training.py
	$(PY) bench/bench_inference.py

clean:
	rm -rf $(VENV) build dist .pytest_cache
