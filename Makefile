# Everything sets itself up on a fresh Debian machine: system packages (apt), a virtual
# environment in .venv, and Rune installed into it.
#
#   make demo   build an example, run it here and on an emulated STM32F4
#   make test   the whole test suite
#   make bench  the benchmarks (figures printed, nothing asserted)

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMPS := .stamps
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Python with venv (a bare Debian lacks ensurepip), and the compilers, emulator and tools the
# toolchain drives (docs/architecture.md says what for).
APT_PACKAGES := python3 python3-venv gcc libc6-dev gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm wabt graphviz

.PHONY: setup demo test bench clean

setup: $(STAMPS)/venv

$(STAMPS)/apt: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "Installing system packages:" $$missing; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: pyproject.toml $(STAMPS)/apt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
	$(BIN)/python -m compileall -q toolchain  # start-up stays fast where bytecode caching is off
	@touch $@

demo: setup
	$(BIN)/rune build examples/micro_speech --target device
	$(BIN)/rune run examples/micro_speech/micro_speech.rune --sound examples/micro_speech/samples/yes_1000ms.wav
	$(BIN)/rune flash examples/micro_speech/micro_speech.rune --board stm32f4 --count 1 \
		--sound examples/micro_speech/samples/yes_1000ms.wav

test: setup
	$(BIN)/python -m pytest -n 2 tests
	$(BIN)/python -m pytest -n 2 hil_tests  # every example on the emulated STM32F4, both engines

bench: setup
	$(BIN)/python bench/build.py
	$(BIN)/python bench/host.py
	$(BIN)/python bench/blocks.py
	$(BIN)/python bench/device.py

clean:
	rm -rf $(VENV) $(STAMPS) examples/*/*.rune
