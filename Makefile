# moesim build. `make run` and `make test` install what is missing (make deps),
# build, and run. SAN=1 builds everything with AddressSanitizer and
# UndefinedBehaviorSanitizer into build-san/. See README.md.

CC      ?= cc
SAN     ?= 0
BUILD   := build
OPT     := -O2
ifeq ($(SAN),1)
BUILD   := build-san
OPT     := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -DMOESIM_SAN=1
LDFLAGS += -fsanitize=address,undefined
endif

# MPI=1: the same program built with mpicc into build-mpi/ (build-mpi/moesim),
# so `mpirun -n N build-mpi/moesim run FILE` spreads a sweep over ranks
# (sim/run_mpi.c). Never part of the default build. See docs/results.md.
MPI     ?= 0
ifeq ($(MPI),1)
CC      := mpicc
BUILD   := build-mpi
OPT     += -DMOESIM_MPI
endif

CFLAGS  ?=
CFLAGS  += -std=c11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I/usr/include/igraph
LIBS    := -ligraph -lgsl -lgslcblas -lsqlite3 -lcsv -linih -ljansson -lglpk -lm

MODULES := sim topo workloads results kernels
SRCS    := $(filter-out sim/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BIN     := moesim
ifneq ($(SAN)$(MPI),00)
BIN     := $(BUILD)/moesim
endif
SCENARIO ?= scenarios/alltoall.ini

.PHONY: all deps run test tests bench clean format

all: $(BIN)

deps:
	@sh tools/deps.sh

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libmoesim.a: $(OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(BUILD)/sim/main.o $(BUILD)/libmoesim.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libmoesim.a tests/testutil.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libmoesim.a $(LIBS) -lcmocka

tests: $(TESTS)

run: deps
	@$(MAKE) --no-print-directory $(BIN)
	./$(BIN) run $(SCENARIO)

test: deps
	@$(MAKE) --no-print-directory $(BIN) tests
	@sh tests/run.sh $(BUILD) $(BIN)

bench: deps
	@$(MAKE) --no-print-directory $(BIN)
	@sh bench/run.sh ./$(BIN)

format:
	clang-format -i $(foreach m,$(MODULES) tests,$(wildcard $(m)/*.[ch]))

clean:
	rm -rf build build-san build-mpi build-mpi-test moesim

# ---- figures for papers (docs/results.md) --------------------------------
# make plots [DB=results/moesim.db] [PLOTS_OUT=plots/out]: every figure the
# database has the data for, as PNG and PDF (plots/all.sh says which it skips).
DB        ?= results/moesim.db
PLOTS_OUT ?= plots/out

.PHONY: plots
plots: $(BIN)
	@sh plots/all.sh ./$(BIN) $(DB) $(PLOTS_OUT)
# ---------------------------------------------------------------------------

-include $(OBJS:.o=.d) $(BUILD)/sim/main.d

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
