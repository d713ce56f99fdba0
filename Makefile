# kstream entry points. `make demo` and `make test` do all set-up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PATTERN ?= 01-apigw-kds-lambda
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
FUNCTIONS := $(notdir $(wildcard functions/*))

.PHONY: help venv emulator emulator-stop build build-host demo test bench deploy destroy fmt lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv with the pinned Python tools
$(VENV)/.installed: requirements.txt
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -r requirements.txt
	touch $@

emulator: venv ## start the local emulator (moto server on 127.0.0.1:4566; idempotent)
	scripts/emulator.sh start

emulator-stop: ## stop the local emulator
	scripts/emulator.sh stop

build: venv ## cargo lambda build --release --arm64 --output-format zip for every function
	cargo lambda build --release --arm64 --output-format zip $(addprefix -p ,$(FUNCTIONS))

build-host: ## build the function binaries and the kstream CLI for this machine
	cargo build --release $(addprefix -p ,$(FUNCTIONS)) -p kstream-cli

demo: venv ## pattern 1 on the local emulator, end to end, with a summary
	scripts/demo.sh

test: venv ## every test tier (what CI runs)
	scripts/test.sh

bench: venv ## benchmarks against the Python and Node peers, side by side
	scripts/bench.sh

deploy: build ## deploy PATTERN to real AWS (terraform apply)
	scripts/tf.sh init $(PATTERN)
	terraform -chdir=patterns/$(PATTERN) apply

destroy: ## destroy PATTERN from real AWS
	terraform -chdir=patterns/$(PATTERN) destroy

fmt: ## format Rust and Terraform
	cargo fmt --all
	terraform fmt -recursive infra patterns

lint: ## rustfmt check, clippy -D warnings, terraform fmt check
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	terraform fmt -check -recursive infra
	terraform fmt -check -recursive patterns
