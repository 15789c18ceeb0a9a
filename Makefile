# Two commands on a fresh machine:
#   make run    set up .venv, then run the whole pipeline (dvc repro) on the embedded default
#   make test   set up .venv, then run the test suite
VENV := .venv
BIN := $(VENV)/bin
export PATH := $(abspath $(BIN)):$(PATH)
export PYTHONUNBUFFERED := 1
UV_VERSION := 0.13.9

.PHONY: run test setup paper
setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	test -x $(BIN)/python || python3 -m venv $(VENV)
	# uv installs the same pinned set as pip, ~5x faster on a fresh machine (docs/speed.md)
	$(BIN)/pip install -q --disable-pip-version-check uv==$(UV_VERSION)
	# --compile-bytecode and compileall: every stage is a fresh process, and where Python writes no bytecode
	# (PYTHONDONTWRITEBYTECODE, a read-only tree) each one would compile ~2,500 modules of mlflow and torch
	# anew, ~5 s a process (docs/speed.md)
	$(BIN)/uv pip install -q --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q -j 0 ebm stages configs bench tests
	touch $@

run: setup
	python -m stages.check_params
	dvc repro
	@python -m stages.summary

test: setup
	python -m pytest

# Paper scale (docs/paper_scale.md): make paper CONFIG=cifar10_uncond [DATA=/path/to/imagenet] [NPROC=8]
paper: setup
	python -m configs.paper $(CONFIG) $(if $(DATA),--data $(DATA)) $(if $(NPROC),--nproc $(NPROC))
