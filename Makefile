# edureport — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml $(LOCK) | sha256sum | cut -c1-12)
COUNTY ?= 示例县
YEAR ?= 2022

.PHONY: help setup setup-test lock run test lab lint sample bench clean-outputs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml $(LOCK)
	bash scripts/system-packages.sh fonts
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	$(BIN)/python -m pip check
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## install everything the main job needs from requirements.lock (venv, packages, CJK font)

lock: ## refresh requirements.lock from pyproject.toml (newest versions allowed; uv, in the venv)
	test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); $(BIN)/python -m pip install --quiet uv; }
	$(BIN)/python scripts/lock.py

setup-test: setup ## also install what the browser and Word tests need (Debian chromium, LibreOffice)
	bash scripts/system-packages.sh browser docx

run: setup ## set up, then run the main job on the bundled sample (COUNTY=… YEAR=… to change)
	$(BIN)/edureport run --county $(COUNTY) --year $(YEAR)

test: setup-test ## set up, then run the whole test suite
	$(BIN)/python -m pytest -q

lab: setup ## open the notebooks in JupyterLab
	$(BIN)/jupyter lab notebooks/

lint: setup ## ruff
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

sample: setup ## regenerate the bundled sample ledgers from their fixed seeds
	$(BIN)/python data/make_sample.py

clean-outputs: ## delete everything under outputs/ but its README
	find outputs -mindepth 1 ! -name README.md -exec rm -rf {} +
