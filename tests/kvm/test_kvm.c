/* The KVM engine (engine/kvm) against /dev/kvm: exits and their
 * completions, kicks, interrupt and NMI injection, MSR exits and CPUID
 * (state round trips, dirty logging and timings: test_kvm_state.c). Every
 * test skips, saying why, where KVM cannot run.
 *
 * The guests are a few hand-assembled instructions of 32-bit flat protected
 * mode (x86_cpu_state_flat32). On this project's machines guest CPL0 is
 * emulated instruction by instruction (DESIGN.md, "KVM on this project's
 * machines"), so they stay short. */
#include "test.h"

#include "kvm_harness.h"

/* (1) OUT to a port (8- and 32-bit) and HLT. */
static void pio_and_hlt(void)
{
    static const uint8_t code[] = {
        0xb0, 0x42,                   /* mov al, 0x42 */
        0xe6, 0x10,                   /* out 0x10, al */
        0xb8, 0xef, 0xbe, 0xad, 0xde, /* mov eax, 0xdeadbeef */
        0x66, 0xba, 0x34, 0x12,       /* mov dx, 0x1234 */
        0xef,                         /* out dx, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (expect_pio(&t, 0x10, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x42);
    if (expect_pio(&t, 0x1234, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xdeadbeef);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.rip, CODE + sizeof(code));
    }
    tvm_destroy(&t);
}

/* (2) An MMIO read whose data the test supplies, written back to a port;
 * an MMIO write; a PIO read completed by get_state() before any run(). */
static void mmio_read_write(void)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xe7, 0x11,                   /* out 0x11, eax */
        0xa3, 0x08, 0x00, 0x00, 0xd0, /* mov [0xd0000008], eax */
        0xe4, 0x12,                   /* in al, 0x12 */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR);
    CHECK_EQ(t.exit.u.mmio.size, 4);
    CHECK_EQ(t.exit.u.mmio.is_write, 0);
    uint32_t v = 0xcafef00d;
    memcpy(t.exit.u.mmio.data, &v, 4);
    if (expect_pio(&t, 0x11, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xcafef00d);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 8);
    CHECK_EQ(t.exit.u.mmio.size, 4);
    CHECK_EQ(t.exit.u.mmio.is_write, 1);
    memcpy(&v, t.exit.u.mmio.data, 4);
    CHECK_EQ(v, 0xcafef00d);
    if (expect_pio(&t, 0x12, 1, 0) < 0)
        goto out;
    t.exit.u.pio.data[0] = 0x5a;
    /* The IN is finished (AL written, EIP advanced) before the state is
     * read, without running further. */
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RAX], 0xcafef05a);
    CHECK_EQ(s.rip, CODE + sizeof(code) - 1);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* String I/O: REP OUTSB hands the core all bytes at once (count > 1);
 * REP INSB stores what the core puts in the data buffer. */
static void string_pio(void)
{
    static const uint8_t code[] = {
        0xbe, 0x00, 0x40, 0x00, 0x00, /* mov esi, 0x4000 */
        0xb9, 0x04, 0x00, 0x00, 0x00, /* mov ecx, 4 */
        0x66, 0xba, 0x30, 0x00,       /* mov dx, 0x30 */
        0xf3, 0x6e,                   /* rep outsb */
        0xbf, 0x00, 0x50, 0x00, 0x00, /* mov edi, 0x5000 */
        0xb9, 0x03, 0x00, 0x00, 0x00, /* mov ecx, 3 */
        0xf3, 0x6c,                   /* rep insb */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    memcpy(t.mem + 0x4000, "roam", 4);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_PIO);
    CHECK_EQ(t.exit.u.pio.port, 0x30);
    CHECK_EQ(t.exit.u.pio.is_write, 1);
    CHECK_EQ(t.exit.u.pio.size, 1);
    /* KVM may split a string over several exits; collect them. */
    char got[8] = {0};
    unsigned have = 0;
    for (;;) {
        if (t.exit.reason != VM_EXIT_PIO || t.exit.u.pio.port != 0x30)
            break;
        for (uint32_t i = 0; i < t.exit.u.pio.count && have < 4; i++)
            got[have++] = (char)t.exit.u.pio.data[i];
        if (have >= 4 || trun(&t) < 0)
            break;
    }
    CHECK_STR(got, "roam");
    unsigned filled = 0;
    for (;;) {
        if (trun(&t) < 0)
            goto out;
        if (t.exit.reason != VM_EXIT_PIO)
            break;
        CHECK_EQ(t.exit.u.pio.port, 0x30);
        CHECK_EQ(t.exit.u.pio.is_write, 0);
        for (uint32_t i = 0; i < t.exit.u.pio.count; i++)
            t.exit.u.pio.data[i] = (uint8_t)('x' + filled++);
    }
    CHECK_EQ(t.exit.reason, VM_EXIT_HLT);
    CHECK_EQ(filled, 3);
    CHECK(memcmp(t.mem + 0x5000, "xyz", 3) == 0);
out:
    tvm_destroy(&t);
}

/* A REP INSB longer than KVM's 4 KiB I/O buffer takes several exits. Read
 * the state between them: completing one part produces the next exit,
 * which get_state() cannot take, so it says so (-EBUSY) and run() hands
 * that exit over; nothing is lost or done twice. */
static void multipart_string_io(void)
{
    static const uint8_t code[] = {
        0xbf, 0x00, 0x00, 0x10, 0x00, /* mov edi, 0x100000 */
        0xb9, 0x00, 0x30, 0x00, 0x00, /* mov ecx, 0x3000 */
        0x66, 0xba, 0x31, 0x00,       /* mov dx, 0x31 */
        0xf3, 0x6c,                   /* rep insb */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    unsigned total = 0, exits = 0, busy = 0;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    for (;;) {
        if (trun(&t) < 0)
            goto out;
        if (t.exit.reason != VM_EXIT_PIO)
            break;
        CHECK_EQ(t.exit.u.pio.port, 0x31);
        exits++;
        for (uint32_t i = 0; i < t.exit.u.pio.count; i++, total++)
            t.exit.u.pio.data[i] = (uint8_t)(total * 7);
        int rc = K->get_state(t.cpu, &s);
        if (rc == -EBUSY)
            busy++;
        else
            CHECK_EQ(rc, 0);
    }
    CHECK_EQ(t.exit.reason, VM_EXIT_HLT);
    CHECK_EQ(total, 0x3000);
    printf("  note: 0x3000 bytes of REP INSB: %u exits, get_state -EBUSY %u times\n", exits,
           busy);
    for (unsigned i = 0; i < 0x3000; i++)
        if (t.mem[0x100000 + i] != (uint8_t)(i * 7)) {
            printf("  byte %u of the buffer is 0x%02x\n", i, t.mem[0x100000 + i]);
            test_failed_ = 1;
            break;
        }
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RCX], 0);
    CHECK_EQ(s.gpr[X86_RDI], 0x103000);
out:
    tvm_destroy(&t);
}

/* An MMIO read that straddles a page boundary is split by KVM into two
 * exits. get_state() between them completes the first part, which raises
 * the second exit: it returns -EBUSY and run() delivers that exit. */
static void split_mmio(void)
{
    static const uint8_t code[] = {
        0xa1, 0xfe, 0x0f, 0x00, 0xd0, /* mov eax, [0xd0000ffe] */
        0xe7, 0x11,                   /* out 0x11, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 0xffe);
    CHECK_EQ(t.exit.u.mmio.size, 2);
    t.exit.u.mmio.data[0] = 0x22;
    t.exit.u.mmio.data[1] = 0x11;
    int rc = K->get_state(t.cpu, &s);
    if (rc == 0) {
        printf("  note: KVM finished the split read without a second exit\n");
    } else {
        CHECK_EQ(rc, -EBUSY);
        if (trun(&t) < 0)
            goto out;
        CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
        CHECK_EQ(t.exit.u.mmio.gpa, MMIO_ADDR + 0x1000);
        CHECK_EQ(t.exit.u.mmio.size, 2);
        CHECK_EQ(t.exit.u.mmio.is_write, 0);
        t.exit.u.mmio.data[0] = 0x44;
        t.exit.u.mmio.data[1] = 0x33;
    }
    if (expect_pio(&t, 0x11, 4, 1) == 0 && rc != 0)
        CHECK_EQ(pio_value(&t), 0x33441122);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* A pending MMIO read is completed by get_state() with the data the core
 * put in the exit, and set_state() does not let it land on the new state. */
static void completion_before_state_access(void)
{
    static const uint8_t code[] = {
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xa1, 0x00, 0x00, 0x00, 0xd0, /* mov eax, [0xd0000000] */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    uint32_t v = 0x600df00d;
    memcpy(t.exit.u.mmio.data, &v, 4);
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RAX], 0x600df00d);
    CHECK_EQ(s.rip, CODE + 5);
    /* The same again, then replace the state before running: the read
     * completes into the old state and the new one stands. */
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MMIO);
    memcpy(t.exit.u.mmio.data, &v, 4);
    s.gpr[X86_RAX] = 0x11111111;
    s.rip = CODE + 10;
    CHECK_EQ(K->set_state(t.cpu, &s), 0);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.gpr[X86_RAX], 0x11111111);
        CHECK_EQ(s.rip, CODE + 11);
    }
out:
    tvm_destroy(&t);
}

struct kicker {
    struct engine_vcpu *cpu;
    uint64_t delay_ns;
    uint64_t kicked_at;
};

static void kicker_thread(void *arg)
{
    struct kicker *k = arg;
    host_sleep_ns(k->delay_ns);
    k->kicked_at = host_time_ns();
    K->kick(k->cpu);
}

/* (5) A kick from another thread ends run() while the guest spins; a kick
 * before run() is not lost. */
static void kick(void)
{
    static const uint8_t code[] = {0xeb, 0xfe}; /* jmp $ */
    struct tvm t;
    struct host_thread *th;
    struct kicker k;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    /* Before the first run: immediate_exit catches it. */
    K->kick(t.cpu);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_INTR);

    for (int i = 0; i < 3; i++) {
        k = (struct kicker){t.cpu, 50ull * 1000 * 1000, 0};
        if (host_thread_create(&th, kicker_thread, &k, "kicker") < 0) {
            printf("  thread: %s\n", err_msg());
            test_failed_ = 1;
            goto out;
        }
        uint64_t t0 = host_time_ns();
        int rc = trun(&t);
        uint64_t t1 = host_time_ns();
        host_thread_join(th);
        if (rc < 0)
            goto out;
        CHECK_EQ(t.exit.reason, VM_EXIT_INTR);
        CHECK(t1 - t0 >= 40ull * 1000 * 1000);
        if (i == 0)
            printf("  note: kick to return from run(): %llu us\n",
                   (unsigned long long)((t1 - k.kicked_at) / 1000));
    }
    /* The guest is still at its loop. */
    struct x86_cpu_state s;
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.rip, CODE);
    /* After the INTR, no stale kick remains: the next run waits for one. */
    k = (struct kicker){t.cpu, 100ull * 1000 * 1000, 0};
    CHECK(host_thread_create(&th, kicker_thread, &k, "kicker") == 0);
    uint64_t t0 = host_time_ns();
    if (trun(&t) == 0) {
        CHECK_EQ(t.exit.reason, VM_EXIT_INTR);
        CHECK(host_time_ns() - t0 >= 80ull * 1000 * 1000);
    }
    host_thread_join(th);
out:
    tvm_destroy(&t);
}

/* (6) Interrupt injection in protected mode, through the interrupt window
 * and after HLT. The handlers end in HLT, not IRET: KVM's instruction
 * emulator implements IRET only in real mode, and on this project's
 * machines every CPL0 instruction goes through it (real_mode_interrupt
 * below covers IRET). */
static void interrupt_injection(void)
{
    static const uint8_t code[] = {
        0xb0, 0x01, 0xe6, 0x14, /* mov al, 1; out 0x14, al */
        0xfb,                   /* sti */
        0xeb, 0xfe,             /* jmp $: the window opens here */
    };
    static const uint8_t handler20[] = {
        0xb0, 0x77, 0xe6, 0x13, /* mov al, 0x77; out 0x13, al */
        0xfb, 0xf4,             /* sti; hlt */
        0xeb, 0xfe,             /* jmp $ */
    };
    static const uint8_t handler21[] = {
        0xb0, 0x78, 0xe6, 0x15, /* mov al, 0x78; out 0x15, al */
        0xf4,                   /* hlt */
    };
    struct tvm t;
    struct x86_cpu_state s;
    uint32_t frame[6];
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler20, sizeof(handler20));
    tvm_code(&t, HANDLER + 0x100, handler21, sizeof(handler21));
    idt_gate(&t, 0x20, HANDLER);
    idt_gate(&t, 0x21, HANDLER + 0x100);

    /* IF=0: not ready; ask for the window. */
    CHECK(!K->interrupt_ready(t.cpu));
    K->request_interrupt_window(t.cpu, true);
    if (expect_pio(&t, 0x14, 1, 1) < 0)
        goto out;
    CHECK(!K->interrupt_ready(t.cpu));
    uint64_t t0 = host_time_ns();
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_IRQ_WINDOW);
    printf("  note: the interrupt window exit came %llu us after the run started\n",
           (unsigned long long)((host_time_ns() - t0) / 1000));
    CHECK(K->interrupt_ready(t.cpu));
    K->request_interrupt_window(t.cpu, false);
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x20), 0);
    CHECK(!K->interrupt_ready(t.cpu)); /* one is queued */
    if (expect_pio(&t, 0x13, 1, 1) < 0)
        goto out;
    CHECK_EQ(pio_value(&t), 0x77);
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(K->interrupt_ready(t.cpu));
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x21), 0);
    if (expect_pio(&t, 0x15, 1, 1) < 0)
        goto out;
    CHECK_EQ(pio_value(&t), 0x78);
    if (expect_hlt(&t) < 0)
        goto out;
    /* Two interrupt frames (EIP, CS, EFLAGS) on the stack: the second
     * returns to after the first handler's HLT, the first to the loop. */
    CHECK_EQ(K->get_state(t.cpu, &s), 0);
    CHECK_EQ(s.gpr[X86_RSP], STACK_TOP - 24);
    memcpy(frame, t.mem + STACK_TOP - 24, sizeof(frame));
    CHECK_EQ(frame[0], HANDLER + 6);
    CHECK_EQ(frame[1], 0x08);
    CHECK_EQ(frame[3], CODE + 5);
    CHECK_EQ(frame[4], 0x08);
    CHECK(frame[5] & 0x200); /* IF was set */
out:
    tvm_destroy(&t);
}

/* (6b) Real mode (as after RESET or SIPI): an interrupt through the IVT
 * wakes HLT, and the handler's IRET returns after it. */
static void real_mode_interrupt(void)
{
    static const uint8_t code[] = {
        0xfb, 0xf4,             /* sti; hlt */
        0xb0, 0x03, 0xe6, 0x15, /* mov al, 3; out 0x15, al */
        0xf4,                   /* hlt */
    };
    static const uint8_t handler[] = {
        0xb0, 0x77, 0xe6, 0x13, /* mov al, 0x77; out 0x13, al */
        0xcf,                   /* iret */
    };
    const uint32_t ivt = HANDLER; /* segment 0, offset HANDLER */
    struct tvm t;
    struct x86_cpu_state s;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    memcpy(t.mem + 0x20 * 4, &ivt, 4);
    x86_cpu_state_reset(&s);
    s.seg[X86_CS].selector = 0;
    s.seg[X86_CS].base = 0;
    s.rip = CODE;
    s.gpr[X86_RSP] = STACK_TOP;
    if (K->set_state(t.cpu, &s) < 0) {
        printf("  set_state: %s\n", err_msg());
        test_failed_ = 1;
        goto out;
    }
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(K->interrupt_ready(t.cpu));
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_INTR, 0x20), 0);
    if (expect_pio(&t, 0x13, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x77);
    if (expect_pio(&t, 0x15, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 3);
    if (expect_hlt(&t) == 0) {
        CHECK_EQ(K->get_state(t.cpu, &s), 0);
        CHECK_EQ(s.gpr[X86_RSP], STACK_TOP);
        CHECK_EQ(s.rip, CODE + sizeof(code));
    }
out:
    tvm_destroy(&t);
}

/* NMI injection: it wakes HLT even with IF=0. */
static void nmi_injection(void)
{
    static const uint8_t code[] = {0xfa, 0xf4, 0xeb, 0xfe}; /* cli; hlt; jmp $ */
    static const uint8_t handler[] = {
        0xb0, 0x02, 0xe6, 0x13, /* mov al, 2; out 0x13, al */
        0xf4,                   /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    idt_gate(&t, 2, HANDLER);
    if (expect_hlt(&t) < 0)
        goto out;
    CHECK(!K->interrupt_ready(t.cpu)); /* IF=0 */
    CHECK_EQ(K->inject(t.cpu, ENGINE_EVENT_NMI, 2), 0);
    if (expect_pio(&t, 0x13, 1, 1) == 0)
        CHECK_EQ(pio_value(&t), 2);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* The core refusing an MSR (msr.error = 1) gives the guest #GP(0). */
static void msr_error_gp(void)
{
    static const uint8_t code[] = {
        0xb9, 0x30, 0x08, 0x00, 0x00, /* mov ecx, 0x830 */
        0x0f, 0x32,                   /* rdmsr */
        0xf4,                         /* hlt (not reached) */
    };
    static const uint8_t handler[] = {
        0x58,             /* pop eax: the error code */
        0xe7, 0x13,       /* out 0x13, eax */
        0x58,             /* pop eax: the faulting EIP */
        0xe7, 0x14,       /* out 0x14, eax */
        0xf4,             /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    tvm_code(&t, HANDLER, handler, sizeof(handler));
    idt_gate(&t, 13, HANDLER);
    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_READ) {
        int reason = (int)t.exit.reason;
        tvm_destroy(&t);
        SKIP("RDMSR 0x830 did not reach user space (exit %d)", reason);
    }
    t.exit.u.msr.error = 1;
    if (expect_pio(&t, 0x13, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0);
    if (expect_pio(&t, 0x14, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), CODE + 5);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* (7) RDMSR/WRMSR of MSRs that belong to roam's LAPIC reach the core, and
 * the data it supplies lands in EDX:EAX. */
static void msr_exits(void)
{
    static const uint8_t code[] = {
        0xb9, 0x30, 0x08, 0x00, 0x00, /* mov ecx, 0x830 (x2APIC ICR) */
        0x0f, 0x32,                   /* rdmsr */
        0xe7, 0x16,                   /* out 0x16, eax */
        0x89, 0xd0,                   /* mov eax, edx */
        0xe7, 0x17,                   /* out 0x17, eax */
        0xb9, 0xe0, 0x06, 0x00, 0x00, /* mov ecx, 0x6e0 (TSC_DEADLINE) */
        0xb8, 0x44, 0x33, 0x22, 0x11, /* mov eax, 0x11223344 */
        0xba, 0x88, 0x77, 0x66, 0x55, /* mov edx, 0x55667788 */
        0x0f, 0x30,                   /* wrmsr */
        0xb9, 0x1b, 0x00, 0x00, 0x00, /* mov ecx, 0x1b (APIC_BASE) */
        0x0f, 0x32,                   /* rdmsr */
        0xe7, 0x18,                   /* out 0x18, eax */
        0xf4,                         /* hlt */
    };
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));

    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_READ) {
        int reason = (int)t.exit.reason;
        tvm_destroy(&t);
        SKIP("RDMSR 0x830 did not reach user space (exit %d): this KVM lacks "
             "KVM_CAP_X86_USER_SPACE_MSR",
             reason);
    }
    CHECK_EQ(t.exit.u.msr.index, 0x830);
    t.exit.u.msr.data = 0x1122334455667788ull;
    if (expect_pio(&t, 0x16, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x55667788);
    if (expect_pio(&t, 0x17, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0x11223344);
    if (trun(&t) < 0)
        goto out;
    if (t.exit.reason != VM_EXIT_MSR_WRITE) {
        printf("  note: WRMSR 0x6e0 stayed in KVM (exit %d): no MSR filter\n", t.exit.reason);
        goto out;
    }
    CHECK_EQ(t.exit.u.msr.index, 0x6e0);
    CHECK_EQ(t.exit.u.msr.data, 0x5566778811223344ull);
    if (trun(&t) < 0)
        goto out;
    CHECK_EQ(t.exit.reason, VM_EXIT_MSR_READ);
    CHECK_EQ(t.exit.u.msr.index, 0x1b);
    t.exit.u.msr.data = 0xfee00900;
    if (expect_pio(&t, 0x18, 4, 1) == 0)
        CHECK_EQ(pio_value(&t), 0xfee00900);
    expect_hlt(&t);
out:
    tvm_destroy(&t);
}

/* (8) CPUID at CPL0 answers with roam-v1 (KVM_SET_CPUID2). */
static void cpuid_cpl0(void)
{
    static const uint8_t code[] = {
        0x31, 0xc0, 0x0f, 0xa2,       /* xor eax, eax; cpuid */
        0x89, 0xd8, 0xe7, 0x20,       /* mov eax, ebx; out 0x20, eax */
        0xb8, 0x01, 0x00, 0x00, 0x00, /* mov eax, 1 */
        0x0f, 0xa2,                   /* cpuid */
        0xe7, 0x21,                   /* out 0x21, eax */
        0x89, 0xd8, 0xe7, 0x22,       /* mov eax, ebx; out 0x22, eax */
        0x89, 0xc8, 0xe7, 0x23,       /* mov eax, ecx; out 0x23, eax */
        0x89, 0xd0, 0xe7, 0x24,       /* mov eax, edx; out 0x24, eax */
        0xb8, 0x00, 0x00, 0x00, 0x40, /* mov eax, 0x40000000 */
        0x0f, 0xa2,                   /* cpuid */
        0x89, 0xd8, 0xe7, 0x25,       /* mov eax, ebx; out 0x25, eax */
        0xb8, 0x01, 0x00, 0x00, 0x80, /* mov eax, 0x80000001 */
        0x0f, 0xa2,                   /* cpuid */
        0x89, 0xd0, 0xe7, 0x26,       /* mov eax, edx; out 0x26, eax */
        0xf4,                         /* hlt */
    };
    struct cpuid_entry tbl[CPU_MODEL_MAX_CPUID];
    unsigned n = cpu_model_cpuid(cpu_model_default(), 0, 1, tbl, CPU_MODEL_MAX_CPUID);
    uint32_t l0[4], l1[4], h[4], e1[4], got[7] = {0};
    struct tvm t;
    const char *why = tvm_create(&t, 0);
    if (why)
        SKIP("%s", why);
    tvm_code(&t, CODE, code, sizeof(code));
    cpu_model_cpuid_lookup(tbl, n, 0, 0, l0);
    cpu_model_cpuid_lookup(tbl, n, 1, 0, l1);
    cpu_model_cpuid_lookup(tbl, n, 0x40000000, 0, h);
    cpu_model_cpuid_lookup(tbl, n, 0x80000001, 0, e1);

    for (unsigned i = 0; i < 7; i++) {
        if (expect_pio(&t, (uint16_t)(0x20 + i), 4, 1) < 0)
            goto out;
        got[i] = pio_value(&t);
    }
    expect_hlt(&t);
    CHECK_EQ(got[0], l0[1]); /* "Genu" */
    CHECK_EQ(got[1], l1[0]); /* signature */
    CHECK_EQ(got[5], h[1]);  /* "roam" */
    CHECK_EQ(got[6], e1[3]); /* SYSCALL NX LM */
    CHECK_EQ(got[2], l1[1]); /* CLFLUSH size, count, APIC ID */
    if (got[3] != l1[2] || got[4] != l1[3]) {
        if (!host_is_pvm()) {
            printf("  leaf 1 ecx/edx 0x%08x 0x%08x, roam-v1 says 0x%08x 0x%08x\n", got[3],
                   got[4], l1[2], l1[3]);
            test_failed_ = 1;
            goto out;
        }
        if (test_failed_)
            goto out;
        tvm_destroy(&t);
        SKIP("kvm_pvm presents the host's CPUID.1 ECX/EDX at CPL0 (0x%08x 0x%08x; roam-v1 says "
             "0x%08x 0x%08x: no SSE3, hypervisor bit); leaves 0, 0x40000000, 0x80000001 and "
             "1.EAX/EBX match roam-v1",
             got[3], got[4], l1[2], l1[3]);
    }
    CHECK((got[3] & 1) == 0); /* no SSE3 */
    CHECK(got[3] >> 31 == 1); /* hypervisor */
out:
    tvm_destroy(&t);
}

static void probe_message(void)
{
    if (K->probe() < 0)
        SKIP("KVM unavailable: %s", err_msg());
    CHECK_STR(K->name, "kvm");
}

static const struct test_case tests[] = {
    TEST(probe_message), TEST(pio_and_hlt), TEST(mmio_read_write), TEST(string_pio),
    TEST(multipart_string_io), TEST(split_mmio), TEST(completion_before_state_access),
    TEST(kick),          TEST(interrupt_injection), TEST(real_mode_interrupt),
    TEST(nmi_injection), TEST(msr_exits), TEST(msr_error_gp),
    TEST(cpuid_cpl0),
};

TEST_MAIN("kvm", tests)
