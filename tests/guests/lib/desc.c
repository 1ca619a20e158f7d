/* Descriptor tables and exception dispatch (Intel SDM Vol. 3A: 6.14
 * "Exception and Interrupt Handling in 64-bit Mode", 8.7 "Task Management
 * in 64-bit Mode"; the GDT itself is static data in entry.S). */
#include "guest.h"

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

struct gate {
    uint16_t off0, sel;
    uint8_t ist, attr;
    uint16_t off1;
    uint32_t off2, reserved;
};

extern char isr_table[];
extern uint64_t gdt_tss[2], syscall_kernel_rsp;
static struct tss64 tss;
static struct gate idt[256];
static irq_handler handlers[256];
static uint8_t rsp0_stack[16384] __attribute__((aligned(16)));
static uint8_t df_stack[4096] __attribute__((aligned(16)));
static int in_exception;

volatile struct fault_record last_fault;
volatile uint64_t fault_fixup, fault_insn;
volatile uint32_t fault_armed;

static const struct {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed)) idt_desc = {sizeof(idt) - 1, (uint64_t)idt};

void idt_load(void)
{
    __asm__ volatile("lidt %0" : : "m"(idt_desc));
}

void desc_init(void)
{
    uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;

    tss.rsp[0] = (uintptr_t)rsp0_stack + sizeof(rsp0_stack);
    tss.ist[0] = (uintptr_t)df_stack + sizeof(df_stack);
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: I/O at CPL3 needs IOPL 3 */
    syscall_kernel_rsp = tss.rsp[0];
    gdt_tss[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ul << 40) |
                 (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
    gdt_tss[1] = base >> 32;
    __asm__ volatile("ltr %w0" : : "r"(TSS_SEL));

    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = (uintptr_t)isr_table + 16 * v;
        idt[v] = (struct gate){(uint16_t)a, KERNEL_CS, 0, 0x8e, (uint16_t)(a >> 16),
                               (uint32_t)(a >> 32), 0};
    }
    idt[8].ist = 1; /* #DF on its own stack */
    idt[3].attr = 0xee; /* int3 from CPL3 */
    idt[0x80].attr = 0xee; /* system calls */
    idt_load();
}

void set_handler(unsigned vector, irq_handler fn)
{
    handlers[vector & 255] = fn;
}

void set_gate_dpl(unsigned vector, unsigned dpl)
{
    idt[vector & 255].attr = (uint8_t)(0x8e | ((dpl & 3) << 5));
}

const char *exception_name(unsigned v)
{
    static const char *const names[32] = {
        "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
        "#NP", "#SS", "#GP", "#PF", "#15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP"};
    if (v < 32)
        return names[v] ? names[v] : "reserved";
    return "interrupt";
}

void isr_dispatch(struct frame *f);

void isr_dispatch(struct frame *f)
{
    unsigned v = (unsigned)f->vector;

    if (handlers[v]) {
        handlers[v](f);
        return;
    }
    if (user_trap(f))
        return;
    if (v < 32 && fault_armed && v != 8) {
        last_fault.vector = v;
        last_fault.error = f->error;
        last_fault.rip = f->rip;
        last_fault.cs = f->cs;
        last_fault.rsp = f->rsp;
        last_fault.cr2 = v == 14 ? read_cr2() : 0;
        last_fault.count++;
        fault_armed = 0;
        f->rip = fault_fixup;
        return;
    }
    if (v == SPURIOUS_VECTOR || v == 0x27 || v == 0x2f)
        return; /* LAPIC or PIC spurious interrupt */
    if (in_exception++) {
        /* A fault while reporting one: print what we can and stop. */
        puts_("FAIL: nested exception\n");
        debug_exit(1);
    }
    fail("unexpected %s (vector %u) error 0x%lx at rip 0x%lx cs 0x%lx rsp 0x%lx cr2 0x%lx",
         exception_name(v), v, f->error, f->rip, f->cs, f->rsp, read_cr2());
}
