# edureport — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
COUNTY ?= 示例县
YEAR ?= 2022

.PHONY: help setup setup-test run test lab lint sample bench clean-outputs

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	bash scripts/system-packages.sh fonts
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,batch,lab]'
	rm -f $(VENV)/.installed-* && touch $@

setup: $(STAMP) ## install everything the main job needs (venv, packages, CJK font)

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
