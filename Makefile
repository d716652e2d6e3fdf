# moesim build. `make run` and `make test` install what is missing (make deps),
# build, and run. SAN=1 builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-san/. FUZZ=1 (used by `make fuzz`)
# builds with clang and libFuzzer's instrumentation into build-fuzz/. `make
# valgrind` runs the default scenario under memcheck. See README.md.

CC      ?= cc
SAN     ?= 0
BUILD   := build
OPT     := -O2
ifeq ($(SAN),1)
BUILD   := build-san
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -DMOESIM_SAN=1
LDFLAGS += -fsanitize=address,undefined
endif
ifeq ($(FUZZ),1)
BUILD   := build-fuzz
CC      := clang
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -DMOESIM_SAN=1
endif

# MPI=1: the same program built with mpicc into build-mpi/ (build-mpi/moesim),
# so `mpirun -n N build-mpi/moesim run FILE` spreads a sweep over ranks
# (app/run_mpi.c). Never part of the default build. See docs/results.md.
MPI     ?= 0
ifeq ($(MPI),1)
CC      := mpicc
BUILD   := build-mpi
OPT     += -DMOESIM_MPI
endif

CFLAGS  ?=
CFLAGS  += -std=c11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I/usr/include/igraph -I/usr/include/libxml2
LIBS    := -ligraph -lxml2 -lgsl -lgslcblas -lsqlite3 -lcsv -linih -ljansson -lglpk -lxxhash -lm

MODULES := base topo sim workloads kernels results plots app
SRCS    := $(filter-out app/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BIN     := moesim
ifneq ($(SAN)$(MPI),00)
BIN     := $(BUILD)/moesim
endif
SCENARIO ?= scenarios/alltoall.ini

.PHONY: all deps run test tests bench clean format fuzz fuzz-build valgrind layers

all: $(BIN)

deps:
	@sh tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmoesim.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/app/main.o $(BUILD)/libmoesim.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libmoesim.a $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmoesim.a $(LIBS) -lcmocka

tests: $(TESTS)

# The replay test compiles the fuzz targets in (tests/fuzz/fuzz.h).
$(BUILD)/tests/test_fuzz_replay: $(wildcard tests/fuzz/fuzz_*.c) tests/fuzz/fuzz.h

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN) run $(SCENARIO)

test: deps
	@$(MAKE) --no-print-directory $(BIN) tests
	@sh tests/run.sh $(BUILD) $(BIN)

# make layers: no file includes a module its layer may not use (the matrix is
# in tools/layers.sh, drawn in docs/architecture.md); make test runs it too
# (tests/cli/layers.sh).
layers:
	@sh tools/layers.sh

bench: deps
	@$(MAKE) --no-print-directory $(BIN)
	@sh bench/run.sh ./$(BIN)

format:
	clang-format -i $(foreach m,$(MODULES) tests,$(wildcard $(m)/*.[ch]))

clean:
	rm -rf build build-san build-fuzz build-mpi build-mpi-test moesim

# ---- figures for papers (docs/results.md) --------------------------------
# make plots [DB=results/moesim.db] [PLOTS_OUT=plots/out]: every figure the
# database has the data for, as PNG and PDF (plots/all.sh says which it skips).
DB        ?= results/moesim.db
PLOTS_OUT ?= plots/out

.PHONY: plots paper
plots: $(BIN)
	@sh plots/all.sh ./$(BIN) $(DB) $(PLOTS_OUT)

# make paper: from a shipped scenario to the comparison table and all five
# figures (scenarios/paper.ini writes results/paper.db; a rerun resumes).
paper: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN) run scenarios/paper.ini --resume --quiet
	./$(BIN) report --db results/paper.db --by transport.path,placement.policy --metric step_time
	@sh plots/all.sh ./$(BIN) results/paper.db $(PLOTS_OUT)
# ---------------------------------------------------------------------------

-include $(OBJS:.o=.d) $(BUILD)/app/main.d

# ---- fuzzing: one libFuzzer target per input parser (tests/fuzz/README.md) ----
# `make fuzz` builds every tests/fuzz/fuzz_*.c with clang into build-fuzz/ and
# runs each for FUZZ_SECONDS, one after another (one core), starting from its
# committed seed corpus tests/fuzz/corpus/NAME/. FUZZ_TARGETS picks some.
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h build-fuzz/libmoesim.a
	$(CC) $(CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< build-fuzz/libmoesim.a $(LIBS)

fuzz-build: $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)

fuzz:
	@sh tools/deps.sh fuzz
	@$(MAKE) --no-print-directory FUZZ=1 fuzz-build
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# ---- valgrind: memcheck on the default scenario (leaks are errors) ----
# Memcheck follows the forked run workers too. A worker _exit()s without
# closing the parent's SQLite connection (it must not touch it), which
# memcheck calls "possibly lost" in the worker; definite and indirect leaks,
# and every memory error, fail the target in parent and workers alike (a
# worker that fails it has no result, so its run and the target fail).
valgrind:
	@sh tools/deps.sh valgrind
	@$(MAKE) --no-print-directory $(BIN)
	@rm -f build/valgrind.db build/valgrind.db-wal build/valgrind.db-shm
	valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect --error-exitcode=1 ./$(BIN) run $(SCENARIO) --db build/valgrind.db --quiet

# ---- kernels: the CUDA MoE layer (kernels/*.cu) -> build/libmoesim_cuda.so ----
# Needs nvcc and cuBLAS (CUDA 12+), not a GPU. The default binary dlopen()s the
# library for `--device gpu` (kernels/device.h, kernels/README.md).
NVCC       ?= /usr/local/cuda/bin/nvcc
NVCCFLAGS  ?= -O2 -arch=sm_90 -std=c++17 -Xcompiler -fPIC,-Wall -I.
CUDA_LIB   := $(BUILD)/libmoesim_cuda.so

.PHONY: kernels
kernels: $(CUDA_LIB)

$(CUDA_LIB): $(wildcard kernels/*.cu) kernels/gpu_api.h
	@mkdir -p $(dir $@)
	$(NVCC) $(NVCCFLAGS) -shared -o $@ $(filter %.cu,$^) -lcublas
