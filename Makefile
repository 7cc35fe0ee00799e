# Two commands do all the set-up on a fresh clone:
#   make serve   create .venv, install, and start the explorer
#   make test    create .venv, install (with test tools), and run the test suite
# Python 3.11 (panel 1.9 here); any python3 >= 3.11 will do if 3.11 is not on PATH.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

# Browser tests drive Debian's chromium (never a downloaded browser).
CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: serve test bench install clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

serve: $(STAMP)
	$(PY) -m explorer serve $(ARGS)

# One torch thread: with the other core busy, two threads ran slower than one on these machines.
# Two worker processes, each test file whole on one: the browser tests spend most of their time waiting
# on a page, so on 2 cores the suite took 9.7 minutes against 15.0 in one process.
TEST_WORKERS ?= 2
test: $(STAMP) $(CHROMIUM)
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

bench: $(STAMP)
	$(PY) -m explorer bench $(ARGS)

clean:
	rm -rf $(VENV)
