# Benchmark guest programs (bench/README.md): bench/guest/NAME.c, with
# bench/guest/NAME.S when there is one, built into build/guests/NAME.elf
# exactly as the test guests are (tests/guests/guests.mk: its compiler,
# flags, linker script and lib objects). Included by the top Makefile after
# guests.mk; `make bench-guests` builds them.

BENCH_GUEST_NAMES := emubench
BENCH_GUEST_ELFS := $(patsubst %,$(GUEST_DIR)/%.elf,$(BENCH_GUEST_NAMES))
BENCH_GUEST_OBJ := $(GUEST_DIR)/obj/bench

.PHONY: bench-guests
bench-guests: $(BENCH_GUEST_ELFS)

$(BENCH_GUEST_OBJ)/%.c.o: bench/guest/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(BENCH_GUEST_OBJ)/%.S.o: bench/guest/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

# Explicit rules, so that guests.mk's pattern rule (tests/guests/NAME.c)
# does not apply to these names.
define BENCH_GUEST_RULE
$(GUEST_DIR)/$(1).elf64: $(BENCH_GUEST_OBJ)/$(1).c.o \
		$(patsubst bench/guest/%.S,$(BENCH_GUEST_OBJ)/%.S.o,$(wildcard bench/guest/$(1).S)) \
		$(GUEST_LIB_OBJS) tests/guests/lib/guest.ld
	$$(GUEST_LD) $$(GUEST_LDFLAGS) -T tests/guests/lib/guest.ld -o $$@ $$(filter %.o,$$^)

$(GUEST_DIR)/$(1).elf: $(GUEST_DIR)/$(1).elf64
	$$(GUEST_OBJCOPY) -O elf32-i386 $$< $$@
endef
$(foreach n,$(BENCH_GUEST_NAMES),$(eval $(call BENCH_GUEST_RULE,$(n))))

.SECONDARY: $(patsubst %,$(GUEST_DIR)/%.elf64,$(BENCH_GUEST_NAMES)) \
	$(wildcard $(patsubst bench/guest/%,$(BENCH_GUEST_OBJ)/%.o,$(wildcard bench/guest/*.c bench/guest/*.S)))

-include $(wildcard $(BENCH_GUEST_OBJ)/*.d)

# Host-side helpers of the benchmark scripts (bench/tools/NAME.c, Linux).
BENCH_TOOLS := build/bench/prewarm
.PHONY: bench-tools
bench-tools: $(BENCH_TOOLS)

build/bench/%: bench/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $<
