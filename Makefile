# Every task of the project is a make target. Only Python 3.11+, Node 20 and the package registries are needed.
SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
PY := $(VENV)/bin/python
LAYER := build/layer
# The Lambda runtime's Python (infra/definitions.py): the virtualenv, the suite and the layer's bytecode use it.
LAMBDA_PYTHON := $(shell cd $(CURDIR) && $(PYTHON) -c 'from infra.definitions import LAMBDA_PYTHON; print(LAMBDA_PYTHON)')
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install dev test test-unit test-fast lint synth deploy bootstrap secret smoke layer bench faults fuzz demo openapi browser clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --all-groups --quiet --python $(LAMBDA_PYTHON)
	touch $@

install: $(VENV)/.installed

dev: install ## start the whole local stack in the foreground (Ctrl-C stops it)
	$(VENV)/bin/clickup-bridge dev

test: install browser ## the whole suite: unit, integration, infra, e2e, browser
	$(PY) -m pytest -q tests

# tests/unit alone, in seconds: the pure decisions and helpers, no local stack. `make test` keeps its own order
# (pytest's: e2e, infra, integration, unit): it does not run tests/unit first in the same process.
test-unit: install ## the unit tests only (no local stack; seconds)
	$(PY) -m pytest -q tests/unit

test-fast: install ## everything but CDK synthesis and the browser
	$(PY) -m pytest -q tests -m "not infra and not browser"

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

$(LAYER)/.built: $(UV) pyproject.toml uv.lock
	rm -rf $(LAYER) && mkdir -p $(LAYER)/python
	$(UV) export --frozen --no-default-groups --no-emit-project --no-hashes --quiet -o build/layer-requirements.txt
	$(UV) pip install --quiet --target $(LAYER)/python --python-platform aarch64-manylinux2014 \
	  --python-version $(LAMBDA_PYTHON) --only-binary :all: --no-compile -r build/layer-requirements.txt
	$(PY) -m infra.layer compile $(LAYER)/python
	touch $@

# Lambda cannot write bytecode caches (its code directories are read only): the layer ships .pyc compiled by the
# runtime's Python version, unchecked-hash (infra/layer.py).
layer: install $(LAYER)/.built ## the Lambda layer: runtime dependencies (arm64 wheels) + layers/common, compiled
	$(PY) -m infra.layer bridge $(LAYER)

synth: layer ## CloudFormation template into cdk.out/ (offline: no AWS account needed)
	$(PY) infra/app.py -c layer_dir=$(LAYER) -c stage=$${STAGE:-dev} --outdir cdk.out
	@echo "template: cdk.out/ClickUpBridge-$${STAGE:-dev}.template.json"

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

bootstrap: node_modules/.installed ## once per account and region: the CDK's staging resources (pinned CLI)
	npx cdk bootstrap --no-notices

# The deployment inputs are read from the environment (or -c key=value in CDK_ARGS): CLICKUP_CLIENT_ID,
# PORTAL_ORIGIN, JWT_ISSUER, ALARM_EMAIL, optional PUBLIC_BASE_URL and JWT_AUDIENCE (infra/deployment.py).
# A stage other than dev is refused, naming each input that is missing or a placeholder.
deploy: layer node_modules/.installed ## deploy STAGE (default dev) to the AWS account of your current credentials
	npx cdk deploy --no-notices -c layer_dir=$(LAYER) -c stage=$${STAGE:-dev} $(CDK_ARGS)

secret: install ## store the ClickUp OAuth client secret of STAGE (prompted; or piped on stdin)
	$(VENV)/bin/clickup-bridge secret set --stage $${STAGE:-dev}

smoke: install ## after `make deploy`: check that STAGE's routes, schedules and queues are wired (creates nothing)
	$(VENV)/bin/clickup-bridge smoke --stage $${STAGE:-dev}

bench: install ## benchmarks: print figures and write them to bench/results/
	$(PY) -m bench

faults: install ## fault runs of the task pipeline (FAULT_RUNS=10000 by default; hours on 2 cores)
	$(PY) -m bench task_faults

fuzz: install ## nightly schema fuzzing of the portal API (FUZZ_MAX_EXAMPLES=300 per operation and role; ~20 min)
	FUZZ_MAX_EXAMPLES=$${FUZZ_MAX_EXAMPLES:-300} FUZZ_RANDOM=$${FUZZ_RANDOM:-1} $(PY) -m pytest -q -m fuzz tests/integration/test_schema_fuzz.py
	@cat bench/results/fuzz.json

demo: install ## beside a running `make dev`: walk the main job end to end, printing each step
	$(PY) -m local.demo

openapi: install ## regenerate the committed OpenAPI document of the portal API
	$(PY) -m local.openapi --write

browser: install ## Debian's Chromium for the Playwright browser tests (skipped when already there)
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; fi; \
	fi

clean:
	rm -rf $(VENV) $(TOOLS) build cdk.out node_modules .local
