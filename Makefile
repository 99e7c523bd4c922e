# Two commands a new user needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml constraints.txt | cksum | cut -d' ' -f1)

.PHONY: demo test lint bench clean constraints

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every installed package, so every machine gets the same versions.
$(STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fieldbot demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Benchmarks on the local PostgreSQL (FIELDBOT_BENCH_URL); generated data is kept between runs.
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

# After changing dependencies in pyproject.toml: `make constraints` pins the newest versions they allow.
constraints:
	rm -rf $(VENV)-pins
	$(PYTHON) -m venv $(VENV)-pins
	$(VENV)-pins/bin/python -m pip install --quiet -e '.[dev]'
	head -n 1 constraints.txt > constraints.new
	$(VENV)-pins/bin/python -m pip freeze --exclude-editable >> constraints.new
	mv constraints.new constraints.txt
	rm -rf $(VENV)-pins

clean:
	rm -rf $(VENV) fieldbot.db fieldbot.db-* .pytest_cache .mypy_cache
