/* User mode: CPL3 entry through IRETQ, system calls through "int 0x80"
 * (an IDT gate with DPL 3) and SYSCALL/SYSRET (Intel SDM Vol. 2B SYSCALL,
 * SYSRET; Vol. 3A 5.8.8 "Fast System Calls in 64-Bit Mode"). */
#include "guest.h"

extern char user_return[], kcall_insn[], syscall_cpl3_insn[];
extern uint64_t user_kernel_rsp;
void syscall_entry(void);

static uint8_t user_stack[65536] __attribute__((aligned(16)));
volatile uint64_t syscall_last_rip, syscall_last_rflags, syscall_count, syscall_not_cpl0;

static uint64_t do_syscall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t caller_cs)
{
    switch (nr) {
    case SYS_ADD:
        return a0 + a1;
    case SYS_INFO:
        return (caller_cs & 3) | ((uint64_t)(read_cs() & 3) << 8);
    case SYS_WRITE:
        console_write((const char *)(uintptr_t)a0, a1);
        return a1;
    case SYS_DEBUG_EXIT:
        debug_exit((uint32_t)a0);
    default:
        return (uint64_t)-1;
    }
}

/* Back to user_call's caller, at CPL0, with fn's result (in RDI). */
static void return_to_kernel(struct frame *f)
{
    f->rax = f->rdi;
    f->rip = (uintptr_t)user_return;
    f->cs = KERNEL_CS;
    f->ss = KERNEL_DS;
    f->rsp = user_kernel_rsp;
    f->rflags = 0x2;
}

static void int80_handler(struct frame *f)
{
    if (f->rax == SYS_EXIT) {
        return_to_kernel(f);
        return;
    }
    f->rax = do_syscall(f->rax, f->rdi, f->rsi, f->cs);
}

int user_trap(struct frame *f)
{
    if (f->vector != 6 || (f->cs & 3) != 3)
        return 0;
    if (f->rip == (uintptr_t)kcall_insn) {
        if (f->rax == SYS_EXIT) {
            return_to_kernel(f);
            return 1;
        }
        f->rax = do_syscall(f->rax, f->rdi, f->rsi, f->cs);
        f->rip += 2;
        return 1;
    }
    if (f->rip == (uintptr_t)syscall_cpl3_insn) {
        /* SYSCALL left us at CPL3 at LSTAR: return as SYSRET would. */
        syscall_not_cpl0++;
        f->rip = f->rcx;
        f->rflags = (f->r11 & 0x3c7fd7) | 0x2;
        f->rax = SYSCALL_NOT_CPL0;
        return 1;
    }
    return 0;
}

uint64_t syscall_dispatch(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t nr, uint64_t user_rip,
                          uint64_t user_rflags);

uint64_t syscall_dispatch(uint64_t a0, uint64_t a1, uint64_t a2, uint64_t nr, uint64_t user_rip,
                          uint64_t user_rflags)
{
    (void)a2;
    syscall_last_rip = user_rip;
    syscall_last_rflags = user_rflags;
    syscall_count++;
    return do_syscall(nr, a0, a1, USER_CS);
}

void syscall_init(void)
{
    set_handler(0x80, int80_handler);
    /* SYSCALL: CS = STAR[47:32], SS = +8. SYSRET (64-bit): CS = STAR[63:48]
     * + 16, SS = STAR[63:48] + 8, both with RPL 3. */
    wrmsr(MSR_STAR, ((uint64_t)(USER_CS32 & ~3) << 48) | ((uint64_t)KERNEL_CS << 32));
    wrmsr(MSR_LSTAR, (uintptr_t)syscall_entry);
    /* Clear IF, TF, DF, AC (and NT) on entry, as Linux does. */
    wrmsr(MSR_SFMASK, 0x47700);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
}

uint64_t user_run(uint64_t (*fn)(uint64_t), uint64_t arg, uint64_t rflags)
{
    return user_call(fn, arg, (uintptr_t)user_stack + sizeof(user_stack), rflags | 0x2);
}
