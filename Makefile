# The two commands a newcomer needs: `make demo` and `make test`. Each sets up what it needs.
SWIFT ?= swift
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup venv build test test-swift test-engine demo clean

setup: venv build

venv:
	@scripts/setup-venv.sh

build:
	$(SWIFT) build --build-tests

test: setup
	$(SWIFT) test --skip-build
	$(PY) -m pytest engine/tests -q

test-swift: build
	$(SWIFT) test --skip-build

test-engine: venv
	$(PY) -m pytest engine/tests -q

demo: setup
	@scripts/demo.sh

clean:
	rm -rf .build demo-output
