/* The test guests' library: console (COM1), verdicts (debug-exit port),
 * multiboot information, descriptors and exceptions, user mode, and the
 * PC's interrupt controllers and timers. See tests/guests/README.md.
 *
 * Every guest defines guest_name and guest_main(); lib/boot.c sets up the
 * console, GDT/TSS, IDT and a masked PIC, then calls guest_main(). When it
 * returns, the guest passes ("PASS: <name>", debug-exit code 0). */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "x86.h"

#define NORETURN __attribute__((noreturn))
#define PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Defined by each guest. */
extern const char guest_name[];
void guest_main(void);

/* ---- console and verdicts (console.c) ---- */
#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4
void serial_init(void);
void putchar_(char c);                   /* CPL0 only */
void puts_(const char *s);                /* no newline added */
void console_write(const char *s, size_t n); /* at CPL3: SYS_WRITE */
int printf(const char *fmt, ...) PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t n, const char *fmt, ...) PRINTF(3, 4);
/* Writes (code << 1) | 1 as the VMM's exit status; halts if nothing exits. */
NORETURN void debug_exit(uint32_t code);
NORETURN void pass(void);                           /* "PASS: <name>", code 0 */
NORETURN void fail(const char *fmt, ...) PRINTF(1, 2); /* "FAIL: <name>: ...", code 1 */
#define EXPECT(cond, ...)                                                          \
    do {                                                                           \
        if (!(cond))                                                               \
            fail(__VA_ARGS__);                                                     \
    } while (0)

/* ---- strings (string.c) ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);

/* ---- boot information (boot.c) ---- */
extern uint64_t boot_magic, boot_info, entry_cr0;
extern char __image_start[], __image_end[];
#define CMDLINE_MAX 512
/* The multiboot command line (copied at boot: the original may lie where a
 * guest puts its data). "" if none. */
const char *cmdline(void);
/* "key=value" lookups in the command line; value with an optional 0x
 * prefix and K/M/G suffix. Returns def when the key is absent. */
uint64_t cmdline_u64(const char *key, uint64_t def);
int cmdline_str(const char *key, char *buf, size_t n); /* 1 if found */
/* key=on|off|auto (also 1, 0); MODE_AUTO when absent. */
enum { MODE_OFF, MODE_AUTO, MODE_ON };
int cmdline_mode(const char *key);
/* hold=NAME (and hold_ms=N, default 1500): at the point of that name,
 * print "hold: NAME" and spin N ms, the window in which
 * tests/migrate/cross.sh moves the guest to another roam process mid-run. */
void hold_point(const char *name);
extern uint32_t mb_flags, mb_mem_upper_kib, mb_mods_count, mb_mod0_start, mb_mod0_end;
extern char mb_mod0_string[64];
extern char mb_loader_name[32];
/* End of the RAM that starts at 1 MiB (from mem_upper). */
uint64_t ram_top(void);
/* First 2 MiB boundary past the image and anything the loader put after
 * it (modules): where guests may put large data. */
uint64_t free_mem_start(void);

/* ---- descriptors and exceptions (desc.c) ---- */
struct frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
typedef void (*irq_handler)(struct frame *f);
void desc_init(void); /* GDT's TSS, IDT; called by boot.c */
void idt_load(void);  /* on an AP */
void set_handler(unsigned vector, irq_handler fn);
/* The IDT gate's DPL (3 lets CPL3 code use "int vector"). */
void set_gate_dpl(unsigned vector, unsigned dpl);

/* Expected faults: FAULT_BEGIN marks the instruction that should fault,
 * FAULT_END where execution resumes. The handler records the fault in
 * last_fault and resumes at FAULT_END (at the same CPL). Use inside
 * extended asm (with a "r11" and "memory" clobber):
 *   asm volatile(FAULT_BEGIN "ud2" FAULT_END ::: "r11", "memory"); */
#define FAULT_BEGIN                                                                \
    "leaq 1f(%%rip), %%r11\n\tmovq %%r11, fault_fixup(%%rip)\n\t"                  \
    "leaq 2f(%%rip), %%r11\n\tmovq %%r11, fault_insn(%%rip)\n\t"                   \
    "movl $1, fault_armed(%%rip)\n2:\n\t"
#define FAULT_END "\n1:\n\tmovl $0, fault_armed(%%rip)\n\t"
struct fault_record {
    uint64_t count; /* faults caught so far */
    uint64_t vector, error, rip, cs, rsp, cr2;
};
extern volatile struct fault_record last_fault;
extern volatile uint64_t fault_fixup, fault_insn;
extern volatile uint32_t fault_armed;
const char *exception_name(unsigned vector);

/* ---- user mode (user.c, entry.S) ---- */
#define SYS_EXIT 0
#define SYS_ADD 1
#define SYS_INFO 2 /* returns (caller CPL) | (handler CPL << 8) */
#define SYS_WRITE 3      /* (buffer, length) to the console */
#define SYS_DEBUG_EXIT 4 /* (code): debug_exit */
/* Runs fn(arg) at CPL3 with the given RFLAGS (IF) on the user stack;
 * returns fn's result. */
uint64_t user_call(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t user_rsp, uint64_t rflags);
uint64_t user_run(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t rflags);
/* The guests' own system call from CPL3 (an exception; see entry.S). */
uint64_t kcall(uint64_t nr, uint64_t a0, uint64_t a1);
/* Serves the #UD traps of kcall and of syscall_entry's CPL check; 1 if it
 * was one (desc.c asks before anything else). */
int user_trap(struct frame *f);
/* What a SYSCALL returns when it did not reach CPL0. */
#define SYSCALL_NOT_CPL0 0x5c5c5c5c5c5c5c5cull
extern volatile uint64_t syscall_not_cpl0;
/* SYSCALL/SYSRET: STAR, LSTAR, SFMASK. */
void syscall_init(void);
extern uint8_t syscall_use_iret;
extern volatile uint64_t syscall_last_rip, syscall_last_rflags, syscall_count;
static inline uint64_t int80(uint64_t nr, uint64_t a0, uint64_t a1)
{
    __asm__ volatile("int $0x80" : "+a"(nr) : "D"(a0), "S"(a1) : "memory");
    return nr;
}
static inline uint64_t sys_call(uint64_t nr, uint64_t a0, uint64_t a1)
{
    __asm__ volatile("syscall" : "+a"(nr) : "D"(a0), "S"(a1) : "rcx", "r11", "memory");
    return nr;
}

/* The AP entry (entry.S calls it on each AP with its index; boot.c has a
 * weak one that returns, after which the AP halts). */
void ap_main(unsigned index);

/* ---- PC hardware (hw.c) ---- */
/* 8259A PICs: remapped to base, base + 8; mask bit n masks IRQ n (0-15). */
void pic_init(uint8_t base, uint16_t mask);
void pic_set_mask(uint16_t mask);
void pic_eoi(unsigned irq);
/* 8254 PIT channel 0, mode 2 (rate generator) at about hz. */
#define PIT_HZ 1193182u
void pit_periodic(unsigned hz);
void pit_stop(void);
/* TSC frequency measured against the PIT (channel 0 counted down in mode
 * 0 for 10 ms), or 0 if the PIT does not count. */
uint64_t tsc_calibrate(void);
extern uint64_t tsc_hz; /* after tsc_calibrate; a 2 GHz guess if it failed */
void delay_us(uint64_t us);
/* Local APIC (xAPIC MMIO at 0xfee00000) and IOAPIC (0xfec00000). */
#define LAPIC_BASE 0xfee00000ul
#define LAPIC_ID 0x20
#define LAPIC_VER 0x30
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_LVT_LINT0 0x350
#define LAPIC_TIMER_ICR 0x380
#define LAPIC_TIMER_CCR 0x390
#define LAPIC_TIMER_DCR 0x3e0
#define SPURIOUS_VECTOR 0xff
uint32_t lapic_read(unsigned reg);
void lapic_write(unsigned reg, uint32_t v);
void lapic_enable(void);
void lapic_eoi(void);
unsigned lapic_id(void);
/* Sends an IPI (ICR low bits: vector, delivery mode, level...) and waits
 * for delivery. Returns 0, or -1 if the delivery status never cleared. */
int lapic_ipi(unsigned dest, uint32_t lo);
#define IOAPIC_BASE 0xfec00000ul
uint32_t ioapic_read(unsigned reg);
void ioapic_write(unsigned reg, uint32_t v);
/* Routes pin to vector on dest (physical, fixed, edge, active high). */
void ioapic_route(unsigned pin, uint8_t vector, unsigned dest, int masked);
/* QEMU fw_cfg over I/O ports 0x510 (selector) and 0x511 (data). */
int fwcfg_present(void);
void fwcfg_read(uint16_t key, void *buf, unsigned len);
#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_NB_CPUS 0x05

#endif
