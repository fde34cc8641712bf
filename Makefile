# Quotient — `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev
MEMBERS := -e ./shared -e ./services/goals -e ./services/scoring -e ./services/incentives -e ./services/allinone
.DEFAULT_GOAL := help

.PHONY: help
help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Runtime: the members and what they need to run, nothing else (make run, make demo, make token).
$(STAMP): $(BIN)/python constraints.txt shared/pyproject.toml services/*/pyproject.toml
	$(BIN)/pip install --quiet -c constraints.txt $(MEMBERS)
	@touch $(STAMP)

# Development: the runtime plus the test and lint tooling of the workspace root's `dev` extra
# (installed as a plain, non-editable package: the root holds no code of its own).
$(DEV_STAMP): $(STAMP) pyproject.toml
	$(BIN)/pip install --quiet -c constraints.txt '.[dev]'
	@touch $(DEV_STAMP)

.PHONY: runtime
runtime: $(STAMP) ## Create the venv with the runtime dependencies only (what make run needs)

.PHONY: install
install: $(DEV_STAMP) ## Create the venv with every member and the test / lint tooling (pinned)

.PHONY: run
run: runtime ## Start everything in one process on the embedded default; prints the URLs
	$(BIN)/python -m allinone

.PHONY: demo
demo: runtime ## Start everything with a realistic demo tenant and a live stream of CRM events (RATE=2)
	$(BIN)/python -m allinone.demo --rate $(or $(RATE),2)

.PHONY: test
test: install lint ## Lint, then the whole suite (provisions PostgreSQL and Kafka when not given)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

.PHONY: lint
lint: install ## ruff + mypy
	$(BIN)/ruff check shared services tests deploy
	$(BIN)/ruff format --check shared services tests deploy
	$(BIN)/mypy shared/src

.PHONY: migrate
migrate: runtime ## Apply every migration tree (DATABASE_OWNER_URL, or the embedded server)
	$(BIN)/python -m allinone.migrate

.PHONY: bench
bench: install ## Push N signed webhooks through the real pipeline (Kafka, separate processes)
	$(BIN)/python -m tests.bench.pipeline $(BENCH_ARGS)

.PHONY: token
token: runtime ## Mint a development token: make token TENANT=... ROLE=admin PERSON=p-12
	@$(BIN)/python -m shared.auth --tenant $(or $(TENANT),0d3e1a7c-5b1f-4c2e-9a8d-000000000001) --roles $(or $(ROLE),admin) --person $(or $(PERSON),admin)

.PHONY: kafka
kafka: install ## Start a local single-node KRaft Kafka (jars fetched by Maven) in the foreground
	$(BIN)/python deploy/local/kafka_broker.py run

.PHONY: up
up: ## docker compose up (PostgreSQL, Kafka, migrations, api + worker per service)
	docker compose up -d --build

.PHONY: down
down: ## docker compose down
	docker compose down

.PHONY: k8s
k8s: ## Print the Kubernetes manifests of an overlay: make k8s OVERLAY=prod (or dev) > quotient.yaml
	@test -x $(BIN)/python || { echo "make install first" >&2; exit 1; }
	@$(BIN)/python deploy/k8s/render.py deploy/k8s/overlays/$(or $(OVERLAY),prod)
