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

CFLAGS  ?=
CFLAGS  += -std=c11 -g $(OPT) -Wall -Wextra -Werror -D_GNU_SOURCE -I. -I/usr/include/igraph
LIBS    := -ligraph -lgsl -lgslcblas -lsqlite3 -lcsv -linih -ljansson -lglpk -lm

MODULES := sim topo workloads results kernels
SRCS    := $(filter-out sim/main.c,$(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
OBJS    := $(SRCS:%.c=$(BUILD)/%.o)
TESTS   := $(patsubst tests/%.c,$(BUILD)/tests/%,$(wildcard tests/test_*.c))
BIN     := moesim
ifeq ($(SAN),1)
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
	rm -rf build build-san moesim

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
