# The two commands of the README, and a few conveniences for developers.
# Everything real lives in CMake; this file only strings the steps together.

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build asan fuzz-build run test test-dev test-asan test-fuzz fuzz bench clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	cmake --preset dev >/dev/null
	cmake --build --preset dev -j $(JOBS)

asan: deps
	cmake --preset asan-ubsan >/dev/null
	cmake --build --preset asan-ubsan -j $(JOBS)

fuzz-build: deps
	cmake --preset fuzz >/dev/null
	cmake --build --preset fuzz -j $(JOBS)

# The main job. Until `ward serve` exists (issue 3) it runs the demo.
run: build
	./build/dev/ward demo

test: build asan fuzz-build
	ctest --preset dev -j $(JOBS)
	ctest --preset asan-ubsan -j $(JOBS)
	ctest --preset fuzz -j $(JOBS)

# Runs every libFuzzer target for FUZZ_SECONDS each, on a scratch copy of
# its seed corpus so the checked-in corpus only changes on purpose.
fuzz: fuzz-build
	bash scripts/fuzz.sh build/fuzz $(FUZZ_SECONDS)

bench: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/run.sh build/release

clean:
	rm -rf build
