# The two commands a newcomer needs: `make demo` and `make test`. Each sets up what it needs.
SWIFT ?= swift
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup system venv build test test-swift test-python demo bench-api bench-dataset bench-engine wheels clean

setup: system venv build

system:
	@scripts/setup-system.sh

venv:
	@scripts/setup-venv.sh

build:
	$(SWIFT) build --build-tests

# The engine's tests and tests/ run as two pytest sessions: each has its own conftest modules.
test: setup
	$(SWIFT) test --skip-build
	$(PY) -m pytest engine/tests -q
	$(PY) -m pytest tests -q

test-swift: system build
	$(SWIFT) test --skip-build

test-python: system venv build
	$(PY) -m pytest engine/tests -q
	$(PY) -m pytest tests -q

demo: setup
	@scripts/demo.sh

bench-api: setup
	bench/api/run.sh

bench-dataset: setup
	bench/dataset/run.sh

bench-engine: venv
	$(PY) bench/engine_step/bench.py

# Wheels of the engine's dependencies (all but torch) for a GPU machine with no network.
wheels: venv
	bench/gpu_step/make_wheels.sh

clean:
	rm -rf .build demo-output
