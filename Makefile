# roam build. `make` builds roam; `make check` installs what is missing,
# builds (gcc, clang, ASan+UBSan, mingw-w64) and runs the test suite;
# `make demo` runs a guest program; `make windows` cross-compiles roam.exe.

CC ?= gcc
ifeq ($(origin CC),default)
CC := gcc
endif
SAN ?= 0
ifeq ($(SAN),1)
BUILD ?= build-asan
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
else
BUILD ?= build
SANFLAGS :=
endif

WARN := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) -Iinclude -MMD -MP
LDFLAGS ?=
LDLIBS := -lpthread -lm

PORTABLE_SRCS := $(wildcard src/core/*.c src/dev/*.c src/dev/virtio/*.c src/boot/*.c \
                  src/migrate/*.c src/engine/*.c src/engine/emu/*.c)
LINUX_SRCS := $(wildcard src/host/posix/*.c src/engine/kvm/*.c)
WIN_SRCS := $(wildcard src/host/win32/*.c)
CLI_SRCS := $(wildcard src/cli/*.c)
TEST_SRCS := $(wildcard tests/unit/*.c tests/dev/*.c tests/kvm/*.c tests/emu/*.c)
# The differential tester (tests/difftest/*.c) links into one program.
DIFF_SRCS := $(wildcard tests/difftest/*.c)

LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(PORTABLE_SRCS) $(LINUX_SRCS))
CLI_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(CLI_SRCS))
TEST_BINS := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))

$(BUILD)/src/engine/engine.o: ALL_CFLAGS += -DROAM_HAVE_KVM=1
# The interpreter's hot paths gain about 20% from -O3's inlining (bench/emu.sh).
$(BUILD)/src/engine/emu/%.o: ALL_CFLAGS += -O3

.PHONY: all tests guests guest check demo windows clang clean deps bench difftest
all: $(BUILD)/roam

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(BUILD)/libroam.a: $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/roam: $(CLI_OBJS) $(BUILD)/libroam.a
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(BUILD)/libroam.a $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(BUILD)/libroam.a tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Isrc $(LDFLAGS) -o $@ $< $(BUILD)/libroam.a $(LDLIBS)

DIFF_BIN := $(if $(DIFF_SRCS),$(BUILD)/difftest/difftest)
$(BUILD)/difftest/difftest: $(DIFF_SRCS) $(wildcard tests/difftest/*.h) $(BUILD)/libroam.a tests/test.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itests -Isrc $(LDFLAGS) -o $@ $(DIFF_SRCS) $(BUILD)/libroam.a $(LDLIBS)

tests: $(TEST_BINS) $(DIFF_BIN)

# Guest programs are bare-metal and built once, whatever the sanitizer setting.
-include tests/guests/guests.mk
-include bench/bench.mk

# ---- Windows (mingw-w64): every portable module plus host/win32 ----
WIN_CC := x86_64-w64-mingw32-gcc
WIN_BUILD := build-win
WIN_OBJS := $(patsubst %.c,$(WIN_BUILD)/%.o,$(PORTABLE_SRCS) $(WIN_SRCS))
WIN_CLI_OBJS := $(patsubst %.c,$(WIN_BUILD)/%.o,$(CLI_SRCS))
WIN_OPT := -O2
$(WIN_BUILD)/src/engine/emu/%.o: WIN_OPT := -O3
$(WIN_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(WIN_CC) -std=c11 $(WARN) $(WIN_OPT) -D__USE_MINGW_ANSI_STDIO=1 -Iinclude -MMD -MP -c $< -o $@
$(WIN_BUILD)/roam.exe: $(WIN_CLI_OBJS) $(WIN_OBJS)
	$(WIN_CC) -static -o $@ $^ -lws2_32 -lm
windows: $(WIN_BUILD)/roam.exe
	@echo "windows: built $(WIN_BUILD)/roam.exe from $(words $(WIN_OBJS) $(WIN_CLI_OBJS)) files with $(WIN_CC) (engine: emu)"

# ---- clang: the same tree must build warning-free with clang ----
clang:
	$(MAKE) CC=clang BUILD=build-clang all tests

deps:
	@scripts/deps.sh

check: deps
	$(MAKE) all tests guests
	$(MAKE) SAN=1 all tests
	$(MAKE) clang
	$(MAKE) windows
	scripts/run-tests.sh

demo: deps
	$(MAKE) all guests
	scripts/demo.sh

bench: all guests bench-guests bench-tools
	@for b in bench/*.sh; do [ -x "$$b" ] && "$$b"; done; true

# The Linux guest kit: Debian's cloud kernel and a busybox initramfs in
# build/guest/ (scripts/guest-kit.sh; downloads once, then cached).
guest: deps
	scripts/guest-kit.sh

# The differential tester against hardware (tests/difftest/README.md):
# `make difftest N=100000 [SEED=n]`; make check runs a bounded amount.
difftest: all tests
	$(BUILD)/difftest/difftest --engine-a kvm --engine-b emu --cases $(or $(N),10000) \
		$(if $(SEED),--seed $(SEED))

clean:
	rm -rf build build-asan build-clang build-win

-include $(LIB_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(WIN_OBJS:.o=.d) $(WIN_CLI_OBJS:.o=.d)
