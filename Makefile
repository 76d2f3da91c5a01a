# bulkhead: the two commands a user needs are `make demo` and `make test`.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo

.PHONY: all deps deps-build build test unit integration test-asan demo bench deb clean

all: build

# Compiling needs only the build packages; running the tests, the demo and
# the benchmarks needs the test packages too (Pebble, nginx, Knot, PostgreSQL,
# Chromium, ...). `deps` installs both, build packages first.
deps-build:
	@scripts/deps.sh build

deps: deps-build
	@scripts/deps.sh test

build: deps-build
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)
	cmake --build $(BUILD) -j $(JOBS)

# Unit tests and integration tests against a real Pebble, nginx and friends.
# Tests build the hostile-role hooks in (src/roles/hostile.h); release
# builds leave them out.
test: deps
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS) -DBULKHEAD_TEST_HOOKS=ON
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

unit: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -LE integration

# The same suite built with AddressSanitizer + UBSan.
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DBULKHEAD_SANITIZE=ON -DBULKHEAD_TEST_HOOKS=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS)

demo: deps build
	@scripts/demo.sh $(BUILD)/bulkhead

bench: deps build
	bench/issue.sh $(BUILD)/bulkhead
	bench/renew_noop.sh $(BUILD)/bulkhead

# The Debian package, built from a copy of the tree in $(DEB_BUILD)
# (scripts/deb.sh): build-deb/bulkhead_<version>_<arch>.deb.
DEB_BUILD ?= build-deb
DEB_JOBS ?= 2
deb: deps-build
	@scripts/deps.sh deb
	JOBS=$(DEB_JOBS) scripts/deb.sh $(DEB_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(DEB_BUILD)

# libFuzzer targets (needs clang): builds every src/<dir>/<stem>_fuzz.cc in
# $(FUZZ_BUILD) and runs each for FUZZ_SECONDS over fuzz/corpus/<dir>_<stem>/.
# New inputs go to $(FUZZ_BUILD)/corpus/<name>/ so the seed corpus stays as
# committed; crash reproducers land in $(FUZZ_BUILD)/.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60

.PHONY: fuzz
fuzz:
	@if ! command -v clang++ >/dev/null 2>&1; then \
	  echo "fuzz: clang++ not found, skipping (install clang and libclang-rt-dev)"; \
	  exit 0; \
	fi; \
	set -e; \
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DBULKHEAD_FUZZ=ON -DBULKHEAD_WERROR=OFF; \
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target bulkhead_fuzzers; \
	for src in $$(find src -name '*_fuzz.cc' | sort); do \
	  name=$$(basename $$(dirname $$src))_$$(basename $$src _fuzz.cc); \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$name; \
	  seeds=; \
	  if [ -d fuzz/corpus/$$name ]; then seeds=fuzz/corpus/$$name; fi; \
	  echo "fuzz: $${name}_fuzz for $(FUZZ_SECONDS)s"; \
	  $(FUZZ_BUILD)/$${name}_fuzz -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -artifact_prefix=$(FUZZ_BUILD)/$${name}- \
	    $(FUZZ_BUILD)/corpus/$$name $$seeds; \
	done
