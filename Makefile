# The two commands of the README, and a few conveniences for developers.
# Everything real lives in CMake; this file only strings the steps together.

JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build asan fuzz-build run demo test test-dev test-asan test-fuzz fuzz bench bench-group bench-serve bench-pdq bench-match clean

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

# The main job: the server, with its embedded SQLite store in ./ward-data.
run: build
	@echo "ward serve on http://127.0.0.1:8080 (data in ./ward-data). In two other terminals:"
	@echo "  alice\$$ ./build/dev/ward account register alice --birth-date 1990-01-01"
	@echo "  bob\$$   ./build/dev/ward account register bob --birth-date 1992-02-02"
	@echo "  alice\$$ ./build/dev/ward chat bob --user alice"
	@echo "  bob\$$   ./build/dev/ward chat alice --user bob"
	@echo "(ward send/recv work one message at a time; ward send bob --image FILE sends an image.) Ctrl-C stops the server."
	./build/dev/ward serve --data ./ward-data

demo: build
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

# Sender keys (groups): ward against libsignal-protocol-c's group cipher,
# encrypt and decrypt at 100 B and 1 KiB, timed and under callgrind; about
# 3 minutes (docs/benchmarks.md). GROUP_RUNS=N for another number of runs
# (the table gives medians; default 5).
bench-group: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/group.sh build/release $(or $(GROUP_RUNS),5)

# `ward serve` under load on loopback (about 10 minutes; docs/benchmarks.md).
# SERVE_RUNS=N for another number of runs (the tables give medians).
bench-serve: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/serve.sh build/release $(or $(SERVE_RUNS),3)

# PDQ hashing (ward hash) against decoding alone (djpeg, and ward's decoder
# in one process) on three sets of images; about 2 minutes
# (docs/benchmarks.md). PDQ_RUNS=N for another number of runs (default 5).
bench-pdq: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/pdq.sh build/release $(or $(PDQ_RUNS),5)

# Hash matching: ward's PDQ index against a brute-force popcount scan and
# FAISS's binary indexes (Debian's python3-faiss), N = 100,000 to 10 million;
# about 25 minutes (docs/benchmarks.md). MATCH_RUNS=N for another number of
# rounds (default 3), MATCH_SETS="N:uniform N:clustered ..." for other sets.
bench-match: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/match.sh build/release $(or $(MATCH_RUNS),3)

clean:
	rm -rf build

# Group fan-out through `ward serve`: copies of group messages committed to
# 100 and 1,000 members' queues per second (about 2 minutes;
# docs/benchmarks.md). FANOUT_RUNS=N for another number of runs (default 5).
bench-fanout: deps
	cmake --preset release >/dev/null
	cmake --build --preset release -j $(JOBS)
	bash bench/fanout.sh build/release $(or $(FANOUT_RUNS),5)
