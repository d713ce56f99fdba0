# kstream entry points. `make demo` and `make test` do all set-up on a fresh machine
# (the Rust toolchain, Python 3 and Terraform must be installed; everything else is fetched).
# Every target is safe to run twice.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PATTERN ?= 01-apigw-kds-lambda
# Extra arguments for terraform apply/destroy in `make deploy` / `make destroy`, e.g. TF_ARGS='-var-file=prod.tfvars'.
TF_ARGS ?=
VENV := .venv
PYTHON ?= python3
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
FUNCTIONS := $(notdir $(patsubst %/Cargo.toml,%,$(wildcard functions/*/Cargo.toml)))
LAMBDA_TARGET := aarch64-unknown-linux-gnu
RUST_VERSION := $(shell sed -n 's/^rust-version *= *"\(.*\)"/\1/p' Cargo.toml)

# Terraform providers come from an on-disk mirror when KSTREAM_TF_MIRROR names one. A machine with a
# mirror at /opt/tf-plugins (like the CI machine) uses it without being told: scripts/tf.sh, which
# runs every `terraform init`, decides (kstream_default_tf_mirror in scripts/lib/common.sh);
# set KSTREAM_TF_MIRROR= (empty) to force the public registry.

.PHONY: help venv check-tools check-rust check-terraform rust-target emulator emulator-stop emulator-status \
	emulator-apply emulator-destroy aws-preflight build build-host demo test fuzz soak bench bench-plots diagrams deploy destroy fmt lint clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-17s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create .venv with the pinned Python tools (moto, awscli, cargo-lambda, tflocal)
$(VENV)/.installed: requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found: install Python 3 with pip and venv" >&2; exit 1; }
	@[ -x $(VENV)/bin/pip ] || $(PYTHON) -m venv $(VENV) || { echo "error: '$(PYTHON) -m venv' failed (on Debian/Ubuntu: apt-get install python3-venv)" >&2; rm -rf $(VENV); exit 1; }
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

check-rust:
	@command -v cargo >/dev/null || { echo "error: cargo not found: install Rust >= $(RUST_VERSION) (https://rustup.rs)" >&2; exit 1; }
	@have=$$(rustc --version | awk '{print $$2}'); \
	if [ "$$(printf '%s\n%s\n' "$(RUST_VERSION)" "$$have" | sort -V | head -n1)" != "$(RUST_VERSION)" ]; then \
	  echo "error: rustc $$have is older than the workspace's rust-version $(RUST_VERSION): rustup update" >&2; exit 1; fi

check-tools:
	@for t in curl jq git; do command -v $$t >/dev/null || { echo "error: $$t not found: install it (Debian/Ubuntu: apt-get install $$t)" >&2; exit 1; }; done

check-terraform:
	@command -v terraform >/dev/null || { echo "error: terraform not found: install Terraform >= 1.9 (https://developer.hashicorp.com/terraform/install)" >&2; exit 1; }
	@have=$$(terraform version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p'); \
	if [ "$$(printf '1.9.0\n%s\n' "$$have" | sort -V | head -n1)" != "1.9.0" ]; then \
	  echo "error: terraform $$have is older than 1.9 (needed for terraform test with mock providers and cross-variable validations)" >&2; exit 1; fi

# Lambda runs the functions on arm64 (Graviton): the Rust standard library for that target.
rust-target: check-rust
	@rustup target list --installed 2>/dev/null | grep -qx $(LAMBDA_TARGET) || \
	  rustup target add $(LAMBDA_TARGET) || \
	  { echo "error: cannot add the Rust target $(LAMBDA_TARGET) (rustup target add $(LAMBDA_TARGET))" >&2; exit 1; }

emulator: venv ## start the local emulator (moto server on 127.0.0.1:4566; reuses a running one)
	scripts/emulator.sh start

emulator-stop: ## stop the local emulator started by `make emulator`/`make demo`
	scripts/emulator.sh stop

emulator-status: ## is the emulator up?
	scripts/emulator.sh status

emulator-apply: check-tools venv check-terraform ## apply PATTERN to the running emulator (state under .kstream/)
	scripts/local-apply.sh apply $(PATTERN)

emulator-destroy: venv check-terraform ## destroy PATTERN from the emulator
	scripts/local-apply.sh destroy $(PATTERN)

build: venv rust-target ## cargo lambda build --release --arm64 --output-format zip for every function
	cargo lambda build --release --arm64 --output-format zip $(addprefix -p ,$(FUNCTIONS))
	@for f in $(FUNCTIONS); do ls -l target/lambda/$$f/bootstrap.zip; done

build-host: check-rust ## build the function binaries and the kstream CLI for this machine
	cargo build --release $(addprefix -p ,$(FUNCTIONS)) -p kstream-cli

demo: check-tools venv check-rust check-terraform ## PATTERN (01, 02 or 04) on the local emulator, data moving, with a summary
	@case "$(PATTERN)" in \
	  01-apigw-kds-lambda) scripts/demo.sh ;; \
	  02-kpl-kds-analytics) scripts/demo-02.sh ;; \
	  04-kds-enrichment-apigw) scripts/demo-04.sh ;; \
	  *) echo "error: no demo for PATTERN=$(PATTERN) (demos: 01-apigw-kds-lambda, 02-kpl-kds-analytics, 04-kds-enrichment-apigw)" >&2; exit 1 ;; \
	esac

test: check-tools venv check-rust check-terraform ## every test tier (what CI runs)
	scripts/test.sh

# `make fuzz FUZZ_SECONDS=3600 FUZZ_TARGETS="transform jq"`: seconds per target, which targets;
# FUZZ_PROFILE=dev, FUZZ_SANITIZER, FUZZ_TARGET_DIR from the environment (scripts/fuzz.sh, fuzz/README.md).
FUZZ_SECONDS ?= 600
FUZZ_TARGETS ?=
export FUZZ_SECONDS FUZZ_TARGETS
fuzz: check-rust ## run each cargo-fuzz target for FUZZ_SECONDS (600) (needs the nightly toolchain)
	scripts/fuzz.sh

diagrams: check-tools ## draw each pattern's architecture diagram (docs/diagrams/*.png, from docs/diagrams/patterns.py)
	scripts/diagrams.sh

# `make soak SOAK_RECORDS=10000 SOAK_PATTERNS=03`: records per pattern, which patterns (01 to 04).
SOAK_RECORDS ?= 100000
SOAK_PATTERNS ?= 01 02 03 04
soak: check-tools venv check-rust check-terraform ## SOAK_RECORDS (100,000) records through faults per pattern, none lost
	scripts/soak.sh --records $(SOAK_RECORDS) $(SOAK_PATTERNS)

bench: venv check-rust ## benchmarks against the Python and Node peers, side by side; goal summary, plots
	scripts/bench.sh

bench-plots: ## redraw docs/bench/*.png and the goal summary from the last results (bench/results/*.json)
	python3 bench/summary.py
	scripts/bench-plots.sh

# Real AWS: refuse when AWS_ENDPOINT_URL is set (it would send the deploy to an emulator with the AWS state).
aws-preflight:
	@if [ -n "$${AWS_ENDPOINT_URL:-}" ]; then \
	  echo "error: AWS_ENDPOINT_URL=$$AWS_ENDPOINT_URL is set: unset it for a real AWS deploy (for the emulator use 'make emulator-apply')" >&2; exit 1; fi
	@[ -f patterns/$(PATTERN)/main.tf ] || { echo "error: no pattern patterns/$(PATTERN) (see ls patterns/)" >&2; exit 1; }

deploy: check-terraform aws-preflight build ## deploy PATTERN to real AWS (scripts/tf.sh init + terraform apply)
	scripts/tf.sh init patterns/$(PATTERN)
	terraform -chdir=patterns/$(PATTERN) apply $(TF_ARGS)

destroy: check-terraform aws-preflight ## destroy PATTERN from real AWS (terraform destroy)
	scripts/tf.sh init patterns/$(PATTERN)
	terraform -chdir=patterns/$(PATTERN) destroy $(TF_ARGS)

fmt: ## format Rust and Terraform (whole tree)
	cargo fmt --all
	terraform fmt -recursive infra patterns

lint: ## rustfmt check, clippy -D warnings, terraform fmt check, pattern skeleton, shellcheck
	scripts/test-lint.sh

clean: ## stop the emulator and remove local state (.kstream/); keeps .venv and target/
	scripts/emulator.sh stop
	rm -rf .kstream
