# SER Studio: `make run` opens the app, `make test` runs the whole suite. Both set up first.
PYTHON ?= python3.11
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# Debian packages the app uses: libpulse0 for QtMultimedia playback (the app still runs without it);
# the X11 libraries Qt's xcb platform plugin loads and the PySide6 wheel does not carry (a desktop
# session needs them; offscreen and the tests do not).
APT_PACKAGES := libpulse0 libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0

VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
APP_DIR := dist/SER Studio
DEB     := dist/ser-studio_$(VERSION)_amd64.deb

.PHONY: setup run test test-fast lint bench dist clean system-packages

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

# The gate: lint (ruff), types (mypy), the layering contract, then every test, in TEST_JOBS
# processes (pytest-xdist; most of a test's time is TensorFlow tracing a model, one core each).
# Modules not yet clean are listed as pending in pyproject.toml's [tool.ruff] and [tool.mypy].
TEST_JOBS ?= 2
test: setup lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n $(TEST_JOBS) tests

# The edit loop (under 2 minutes once a `make test` has measured the suite): the same lint, and
# the tests that neither open the window nor train a model nor were slow in the last run
# (markers slow, gui and heavy: pyproject.toml, tests/lanes.py).
test-fast: setup lint
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -m "not slow and not gui and not heavy" tests

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

# The model's figures (hours on 2 cores; bench_honest resumes from bench/results). The other
# bench/ scripts are run one by one: each BENCHMARKS.md section names its script.
bench: setup
	$(PY) bench/bench_training.py
	$(PY) bench/bench_inference.py
	$(PY) bench/bench_honest.py
	$(PY) bench/bench_rooms.py

# The installer: PyInstaller one-folder app from build.spec, both self-tests on the built app
# (a failure stops here), a check that they wrote nothing into the app folder, then the .deb.
dist: setup
	$(PY) -m pip install --quiet -e '.[build]'
	rm -rf build "$(APP_DIR)" $(DEB)
	$(PY) -m PyInstaller --noconfirm --log-level WARN --distpath dist --workpath build build.spec
	@# debug symbols of TensorFlow, llvmlite and CTranslate2's extension: ~330 MB nothing reads at
	@# run time (the self-tests below exercise all three); their wheels' own libraries only, not the
	@# patched ones in *.libs
	find "$(APP_DIR)/_internal/tensorflow" "$(APP_DIR)/_internal/llvmlite" "$(APP_DIR)/_internal/ctranslate2" \
		-type f -name '*.so*' -exec strip --strip-unneeded {} +
	@touch dist/.selftest-start
	"$(APP_DIR)/ser-studio" --selftest
	"$(APP_DIR)/ser-studio" --selftest-train
	@written=$$(find "$(APP_DIR)" -newer dist/.selftest-start | head -5); \
	if [ -n "$$written" ]; then echo "the app wrote into its own folder:"; echo "$$written"; exit 1; fi
	sh resources/linux/build-deb.sh "$(APP_DIR)" $(VERSION) $(DEB)

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache
