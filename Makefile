# The two commands a newcomer needs: `make run` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help run test lint typecheck pytest test-long fuzz-long lock docs clean

help:
	@echo "make run    start PostgreSQL, Redis, migrations, the bootstrap admin and both services"
	@echo "make test   ruff, import-linter, mypy --strict and the whole pytest suite"
	@echo "make lock   re-lock requirements/*.txt with hashes after editing pyproject.toml"

# The virtualenv is rebuilt whenever the lock changes; pip checks every hash.
$(STAMP): requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit("Python 3.11+ is required") if sys.version_info < (3, 11) else None'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements/dev.txt
	touch $(STAMP)

run: $(STAMP)
	@$(PY) -m devstack

# lint-imports checks the layering contracts in pyproject.toml ([tool.importlinter]).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-logo

typecheck: $(STAMP)
	$(VENV)/bin/mypy

pytest: $(STAMP)
	$(PY) -m pytest -q $(PYTEST_ARGS)

test: lint typecheck pytest

test-long: $(STAMP)
	RUN_SLOW=1 $(PY) -m pytest -q -m slow --timeout 1800 $(PYTEST_ARGS)

# Only the long fuzzing (hundreds of random cases per operation of both services, tests/fuzz).
fuzz-long: $(STAMP)
	RUN_SLOW=1 $(PY) -m pytest -q -m slow --timeout 3600 tests/fuzz $(PYTEST_ARGS)

lock: $(STAMP)
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --generate-hashes --universal --python-version 3.11 \
		--no-emit-index-url -o requirements/runtime.txt --quiet
	$(VENV)/bin/uv pip compile pyproject.toml --extra embedded --extra dev --generate-hashes --universal \
		--python-version 3.11 --no-emit-index-url -o requirements/dev.txt --quiet
	$(VENV)/bin/uv pip compile pyproject.toml --extra otel --generate-hashes --universal --python-version 3.11 \
		--no-emit-index-url -o requirements/otel.txt --quiet
	$(VENV)/bin/uv pip compile pyproject.toml --extra serverless --generate-hashes --universal \
		--python-version 3.11 --no-emit-index-url -o requirements/serverless.txt --quiet

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache

docs: $(STAMP)
	$(PY) -m devstack.settings_tables

# The AWS Lambda zips of deploy/serverless (both architectures; downloads the locked wheels, so it
# is not part of `make test`). ARCH picks the pair the template deploys (arm64 or x86_64).
.PHONY: lambda-package
ARCH ?= arm64
lambda-package: $(STAMP)
	$(PY) deploy/serverless/package.py --deploy-arch $(ARCH)
