# The project's commands. `make dev` and `make test` create and fill .venv on first use.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV      := .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.installed
PORT      ?= 3000
EVENT     ?=
FUNCTION  ?=
QUEUE     ?=
# how a Docker container reaches this machine (make invoke-env)
ENDPOINT_HOST ?= host.docker.internal
ARGS      ?=
# checkov pins dependencies that conflict with ours: it gets a venv of its own.
CHECKOV_VENV  := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# Node tools of the test gate (package.json, pinned in package-lock.json): Spectral lints the OpenAPI document.
NODE_STAMP    := node_modules/.installed
# where `make test` logs every AWS request the functions make, for the IAM contract (tests/contract)
REQUEST_LOG   := .aws-requests

.PHONY: help venv dev test test-fast contract unit integration lint typecheck check validate audit audit-strict fuzz build verify-build deploy deploy-prod bench bench-check bench-record invoke invoke-env fire redrive clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/$$(PORT)/$(PORT)/g' \
	  | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): requirements.txt requirements-dev.txt layers/shared/requirements.txt
	@py="$$(scripts/find-python.sh)" || exit 1; \
	 if [ ! -x $(PY) ] || ! $(PY) -c 'import sys; assert sys.version_info[:2] == (3, 13)' 2>/dev/null; then \
	   rm -rf $(VENV) && echo "creating $(VENV) with $$py" && "$$py" -m venv $(VENV); fi
	$(PY) -m pip install --quiet --quiet --upgrade pip
	$(PY) -m pip install --quiet --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --quiet --no-deps -e .
	@touch $(STAMP)

venv: $(STAMP) ## create/refresh the virtual environment

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $(NODE_STAMP)

$(CHECKOV_STAMP): requirements-checkov.txt
	@py="$$(scripts/find-python.sh)" || exit 1; rm -rf $(CHECKOV_VENV) && "$$py" -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --quiet --no-deps -r requirements-checkov.txt
	@touch $(CHECKOV_STAMP)

dev: $(STAMP) ## run the whole system locally (local cloud on http://127.0.0.1:$(PORT))
	$(PY) -m local --port $(PORT)

test: $(STAMP) $(NODE_STAMP) check ## lint, types, template checks, security audit, unit, integration and fuzz tests, then the IAM contract
	rm -rf $(REQUEST_LOG)
	AWS_REQUEST_LOG_DIR=$(CURDIR)/$(REQUEST_LOG) $(PY) -m pytest -n 2 --dist loadgroup
	$(MAKE) --no-print-directory contract

contract: $(STAMP) ## the IAM contract: the AWS requests the last `make test` recorded, against each function's role
	AWS_REQUEST_LOG_DIR=$(CURDIR)/$(REQUEST_LOG) $(PY) -m pytest tests/contract -m contract -s -q

test-fast: $(STAMP) lint typecheck ## before a commit (~2 min): ruff, mypy and the unit tests, in parallel
	$(PY) -m pytest tests/unit -n 2 -q

unit: $(STAMP) ## unit tests only (moto in-process)
	$(PY) -m pytest tests/unit

integration: $(STAMP) $(NODE_STAMP) ## integration tests only (starts the local cloud; Spectral lints its document)
	$(PY) -m pytest tests/integration

lint: $(STAMP) ## ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP) ## mypy
	$(VENV)/bin/mypy

validate: $(STAMP) ## sam validate --lint and cfn-lint on template.yaml
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam validate --lint --region us-east-1
	$(VENV)/bin/cfn-lint template.yaml

audit: $(STAMP) $(CHECKOV_STAMP) ## static security: bandit, pip-audit (AUDIT_STRICT=1 fails if it cannot run), cfn-lint + checkov, committed secrets
	$(VENV)/bin/bandit -c pyproject.toml -r layers functions local scripts --severity-level medium --quiet
	$(PY) scripts/audit_deps.py
	$(VENV)/bin/cfn-lint template.yaml
	$(CHECKOV_VENV)/bin/checkov --file template.yaml --framework cloudformation --compact --quiet --skip-download
	$(PY) scripts/checkov_skips.py
	$(PY) scripts/scan_secrets.py

fuzz: $(STAMP) ## schemathesis against the merged OpenAPI of a local cloud: anonymous, USER and ADMIN passes
	$(PY) -m pytest tests/fuzz -m fuzz -rs

check: lint typecheck validate audit ## the static gate (includes the security audit)

build: $(STAMP) ## sam build for arm64/python3.13 (no Docker), then ship bytecode and strip the runtime's boto3
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam build --parallel
	$(PY) scripts/postbuild.py .aws-sam/build

verify-build: ## check the built artifacts (arm64 only, .pyc shipped)
	$(PY) scripts/postbuild.py --verify-only .aws-sam/build

bench: $(STAMP) ## the performance report (.bench/benchmarks.md; bench-record: docs/benchmarks.md): cold start, layer, warm path, memory, requests, load; ARGS=--quick
	$(PY) -m scripts.bench $(ARGS)

bench-check: $(STAMP) ## make bench, failing when any row is over budget
	$(PY) -m scripts.bench --check $(ARGS)

bench-record: $(STAMP) ## make bench, writing the committed docs/benchmarks.md (make bench writes .bench/, git-ignored)
	$(PY) -m scripts.bench --record $(ARGS)

audit-strict: $(STAMP) ## the dependency audit, failing when it cannot reach the vulnerability service (deploys run it)
	AUDIT_STRICT=1 $(PY) scripts/audit_deps.py

deploy: audit-strict build ## audit the pins (strict), build, then deploy the dev stack (samconfig.toml [dev])
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --config-env dev

deploy-prod: audit-strict build ## audit the pins (strict), build, then deploy prod (shows the change set and asks first)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 $(VENV)/bin/sam deploy --config-env prod

invoke: $(STAMP) ## run one function with an event, like sam local invoke: make invoke FUNCTION=WorkerFunction EVENT=events/worker/email-job.json
	$(PY) -m local invoke $(FUNCTION) --event $(EVENT)

invoke-env: $(STAMP) ## env files for sam local invoke/start-api against the running local cloud: .aws-sam/env.json (ENDPOINT_HOST=host.docker.internal)
	$(PY) -m local invoke-env --port $(PORT) --endpoint-host $(ENDPOINT_HOST) --out .aws-sam/env.json --container-out .aws-sam/container-env.json

fire: $(STAMP) ## fire a schedule of the running local cloud now: make fire FUNCTION=ScheduledFunction SCHEDULE=DlqMonitor
	$(PY) -m local fire $(FUNCTION) $(SCHEDULE) --port $(PORT)

redrive: $(STAMP) ## move a DLQ's messages back to their queue on the running local cloud: make redrive QUEUE=OrderDLQ
	$(PY) -m local redrive $(QUEUE) --port $(PORT)

clean: ## remove build outputs and the virtual environment
	rm -rf .aws-sam $(VENV) $(CHECKOV_VENV) node_modules .pytest_cache .mypy_cache .ruff_cache .bench $(REQUEST_LOG)
