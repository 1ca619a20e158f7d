# Test guest programs (tests/guests/README.md): bare-metal multiboot images
# built with the host gcc and binutils. Each guest is 64-bit code with a
# 32-bit entry (lib/entry.S), linked at 1 MiB (lib/guest.ld), then copied to
# ELF32 (objcopy -O elf32-i386) so that loaders that only take ELF32
# multiboot images (QEMU) accept it; the ELF64 form is kept as NAME.elf64.
# Included by the top Makefile; `make guests` builds build/guests/NAME.elf.

GUEST_NAMES := hello longmode cpl3 exceptions pit lapic_timer ioapic smp dirtier \
	paging modes segments sysinsn fpu
GUEST_DIR := build/guests
GUEST_CC ?= gcc
GUEST_LD ?= ld
GUEST_OBJCOPY ?= objcopy
GUEST_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -m64 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -fno-tree-loop-distribute-patterns \
	-mno-red-zone -mgeneral-regs-only -mcmodel=small -Itests/guests -MMD -MP
# binutils 2.39 and later warn about the one RWX segment; older ones lack the flag.
GUEST_LDFLAGS := -m elf_x86_64 -nostdlib -static -z max-page-size=0x1000 --build-id=none \
	-z noexecstack $(shell $(GUEST_LD) --help 2>/dev/null | grep -q no-warn-rwx-segments && \
	echo --no-warn-rwx-segments)
GUEST_LIB_SRCS := $(wildcard tests/guests/lib/*.c tests/guests/lib/*.S)
GUEST_LIB_OBJS := $(patsubst tests/guests/%,$(GUEST_DIR)/obj/%.o,$(GUEST_LIB_SRCS))
GUEST_ELFS := $(patsubst %,$(GUEST_DIR)/%.elf,$(GUEST_NAMES))
# A guest may have its own assembly in tests/guests/NAME.S, linked with NAME.c.
GUEST_ASM_NAMES := $(patsubst tests/guests/%.S,%,$(wildcard tests/guests/*.S))

guests: $(GUEST_ELFS)

$(GUEST_DIR)/obj/%.c.o: tests/guests/%.c
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_DIR)/obj/%.S.o: tests/guests/%.S
	@mkdir -p $(dir $@)
	$(GUEST_CC) $(GUEST_CFLAGS) -c $< -o $@

$(GUEST_DIR)/%.elf64: $(GUEST_DIR)/obj/%.c.o $(GUEST_LIB_OBJS) tests/guests/lib/guest.ld
	$(GUEST_LD) $(GUEST_LDFLAGS) -T tests/guests/lib/guest.ld -o $@ $(filter %.o,$^)

$(foreach n,$(GUEST_ASM_NAMES),$(eval $(GUEST_DIR)/$(n).elf64: $(GUEST_DIR)/obj/$(n).S.o))

$(GUEST_DIR)/%.elf: $(GUEST_DIR)/%.elf64
	$(GUEST_OBJCOPY) -O elf32-i386 $< $@

.SECONDARY: $(GUEST_LIB_OBJS) $(patsubst %,$(GUEST_DIR)/%.elf64,$(GUEST_NAMES)) \
	$(patsubst %,$(GUEST_DIR)/obj/%.c.o,$(GUEST_NAMES)) \
	$(patsubst %,$(GUEST_DIR)/obj/%.S.o,$(GUEST_ASM_NAMES))

-include $(wildcard $(GUEST_DIR)/obj/*.d $(GUEST_DIR)/obj/lib/*.d)
