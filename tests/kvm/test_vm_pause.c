/* core/vm lifecycle on KVM: pause brings every vCPU to a consistent point
 * under load (guest memory and CPU state stay still while paused), resume
 * lets the guest finish with its own verdict, and a stop request ends a
 * running VM. Uses the dirtier guest program, which keeps a running
 * checksum and verifies all of its memory at the end. And on KVM or emu:
 * a pause does not wait out a throttled vCPU's hold (auto-converge). And on
 * emu: the TSC stops while the VM is paused. */
#include <stdlib.h>

#include "core/config.h"
#include "core/vm.h"
#include "engine/engine.h"
#include "test.h"

#define DIRTIER "build/guests/dirtier.elf"
#define SMP "build/guests/smp.elf"

static int kvm_usable(char *why, size_t len)
{
    const struct engine_ops *kvm = engine_find("kvm");
    if (!kvm) {
        snprintf(why, len, "the KVM engine is not built in");
        return 0;
    }
    if (kvm->probe() < 0) {
        snprintf(why, len, "%s", err_msg());
        return 0;
    }
    return 1;
}

/* FNV-1a over guest RAM below 64 MiB (where the dirtier works). */
static uint64_t ram_hash(struct vm *vm)
{
    const uint8_t *p = gmem_ptr(&vm->mem, 0, 64u << 20);
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < (64u << 20); i += 8) {
        h ^= *(const uint64_t *)(p + i);
        h *= 0x100000001b3ull;
    }
    return h;
}

static struct vm *start_guest_on(const char *engine, const char *kernel, const char *cmdline,
                                 unsigned cpus)
{
    struct vm_config cfg;
    struct vm *vm = NULL;

    config_defaults(&cfg);
    cfg.engine = engine;
    cfg.kernel = kernel;
    cfg.cmdline = cmdline;
    cfg.ncpus = cpus;
    cfg.mem_size = 256ull << 20;
    cfg.serial = SERIAL_FILE;
    cfg.serial_path = "build/tests/vm_pause.serial.log";
    if (vm_create(&vm, &cfg) < 0) {
        printf("  vm_create: %s\n", err_msg());
        return NULL;
    }
    if (vm_start(vm) < 0) {
        printf("  vm_start: %s\n", err_msg());
        vm_destroy(vm);
        return NULL;
    }
    return vm;
}

static struct vm *start_guest(const char *kernel, const char *cmdline, unsigned cpus)
{
    return start_guest_on("kvm", kernel, cmdline, cpus);
}

static void pause_is_consistent_under_load(void)
{
    char why[300];
    struct vm *vm;
    uint64_t last_rip = 0;
    unsigned rip_changes = 0;

    if (!kvm_usable(why, sizeof(why)))
        SKIP("KVM not usable: %.200s", why);
    vm = start_guest(DIRTIER, "rounds=40 mem=16M", 1);
    CHECK(vm != NULL);
    if (!vm)
        return;
    for (int i = 0; i < 20; i++) {
        struct x86_cpu_state a, b;
        host_sleep_ns(20 * 1000 * 1000);
        vm_pause(vm);
        if (vm->stop_requested)
            break; /* the guest finished early: fine, the checks below still ran */
        CHECK_EQ(vm->state, VM_STATE_PAUSED);
        CHECK_EQ(vm->parked_count, vm->ncpus);
        CHECK(!vm->vcpu[0].in_engine);
        uint64_t h1 = ram_hash(vm);
        CHECK_EQ(vm->eng->get_state(vm->vcpu[0].ev, &a), 0);
        host_sleep_ns(5 * 1000 * 1000);
        uint64_t h2 = ram_hash(vm);
        CHECK_EQ(vm->eng->get_state(vm->vcpu[0].ev, &b), 0);
        CHECK_EQ(h1, h2);             /* nothing writes guest memory while paused */
        CHECK_EQ(a.rip, b.rip);       /* and the vCPU does not move */
        CHECK_EQ(a.gpr[X86_RAX], b.gpr[X86_RAX]);
        if (a.rip != last_rip)
            rip_changes++;
        last_rip = a.rip;
        vm_resume(vm);
    }
    int status = vm_wait(vm);
    CHECK_EQ(status, 1); /* the guest's own PASS: its memory checksums held */
    CHECK(rip_changes >= 2); /* it made progress between pauses */
    vm_destroy(vm);
}

static void pause_smp_and_stop(void)
{
    char why[300];
    struct vm *vm;

    if (!kvm_usable(why, sizeof(why)))
        SKIP("KVM not usable: %.200s", why);
    vm = start_guest(SMP, "", 2);
    CHECK(vm != NULL);
    if (!vm)
        return;
    for (int i = 0; i < 10 && !vm->stop_requested; i++) {
        vm_pause(vm);
        if (!vm->stop_requested) {
            CHECK_EQ(vm->parked_count, 2);
            CHECK(!vm->vcpu[0].in_engine && !vm->vcpu[1].in_engine);
        }
        vm_resume(vm);
        host_sleep_ns(2 * 1000 * 1000);
    }
    CHECK_EQ(vm_wait(vm), 1);
    vm_destroy(vm);
}

static void stop_running_guest(void)
{
    char why[300];
    struct vm *vm;

    if (!kvm_usable(why, sizeof(why)))
        SKIP("KVM not usable: %.200s", why);
    vm = start_guest(DIRTIER, "rounds=0 mem=8M", 1); /* runs forever */
    CHECK(vm != NULL);
    if (!vm)
        return;
    host_sleep_ns(100 * 1000 * 1000);
    CHECK(!vm->stop_requested);
    vm_request_stop(vm, VM_STATUS_INTERRUPTED, "test");
    CHECK_EQ(vm_wait(vm), VM_STATUS_INTERRUPTED);
    vm_destroy(vm);
}

/* Auto-converge at 99% holds a vCPU ~990 ms of every second (core/vm.c).
 * The pause that starts a migration's stop-and-copy must not wait for the
 * hold to end: it was the whole downtime (490 ms against a 50 ms target,
 * seen on emu). The bound is half a hold, far from either outcome. */
static void pause_ends_a_throttle_hold(void)
{
    char why[300];
    const char *engine = kvm_usable(why, sizeof(why)) ? "kvm" : "emu";
    struct vm *vm = start_guest_on(engine, DIRTIER, "rounds=0 mem=8M", 1);

    CHECK(vm != NULL);
    if (!vm)
        return;
    host_sleep_ns(50 * 1000 * 1000);
    vm_set_throttle(vm, 99);
    host_sleep_ns(100 * 1000 * 1000); /* the vCPU is in a hold now */
    uint64_t t0 = host_time_ns();
    vm_pause(vm);
    uint64_t ms = (host_time_ns() - t0) / 1000000u;
    if (ms >= 450)
        printf("  vm_pause on %s took %llu ms\n", engine, (unsigned long long)ms);
    CHECK(ms < 450);
    CHECK_EQ(vm->state, VM_STATE_PAUSED);
    CHECK(!vm->stop_requested);
    vm_set_throttle(vm, 0);
    vm_resume(vm);
    vm_request_stop(vm, VM_STATUS_INTERRUPTED, "test");
    CHECK_EQ(vm_wait(vm), VM_STATUS_INTERRUPTED);
    vm_destroy(vm);
}

/* emu's TSC stops while the VM is paused, as the virtual clock does, and
 * runs on from there on resume (engine_ops.clock_run), on every vCPU. */
static void emu_tsc_stops_while_paused(void)
{
    struct vm *vm = start_guest_on("emu", DIRTIER, "rounds=0 mem=8M", 2);
    struct x86_cpu_state s;
    uint64_t t1 = 0, t2 = 0, t3 = 0, ap = 0;

    CHECK(vm != NULL);
    if (!vm)
        return;
    host_sleep_ns(50 * 1000 * 1000);
    vm_pause(vm);
    CHECK_EQ(vm->eng->get_state(vm->vcpu[0].ev, &s), 0);
    t1 = s.tsc;
    CHECK_EQ(vm->eng->get_state(vm->vcpu[1].ev, &s), 0);
    ap = s.tsc;
    host_sleep_ns(100 * 1000 * 1000);
    CHECK_EQ(vm->eng->get_state(vm->vcpu[0].ev, &s), 0);
    t2 = s.tsc;
    CHECK_EQ(t2, t1);
    CHECK_EQ(ap, t1); /* the AP, never started, shares the BSP's TSC */
    uint64_t resumed = host_time_ns();
    vm_resume(vm);
    host_sleep_ns(20 * 1000 * 1000);
    vm_pause(vm);
    uint64_t ran_ns = host_time_ns() - resumed;
    CHECK_EQ(vm->eng->get_state(vm->vcpu[0].ev, &s), 0);
    t3 = s.tsc;
    /* on from t1 for the 20+ ms it ran, not for the 100 ms it was paused */
    uint64_t hz = vm->eng->tsc_hz(vm->vcpu[0].ev);
    CHECK(t3 > t1);
    CHECK(t3 - t1 <= ran_ns / 1000u * (hz / 1000000u) + hz / 1000u);
    if (!(t3 > t1 && t3 - t1 <= ran_ns / 1000u * (hz / 1000000u) + hz / 1000u))
        printf("  TSC %llu -> %llu over %llu ns of running at %llu Hz\n",
               (unsigned long long)t1, (unsigned long long)t3, (unsigned long long)ran_ns,
               (unsigned long long)hz);
    vm_resume(vm);
    vm_request_stop(vm, VM_STATUS_INTERRUPTED, "test");
    CHECK_EQ(vm_wait(vm), VM_STATUS_INTERRUPTED);
    vm_destroy(vm);
}

static const struct test_case tests[] = {
    TEST(pause_is_consistent_under_load),
    TEST(pause_smp_and_stop),
    TEST(stop_running_guest),
    TEST(pause_ends_a_throttle_hold),
    TEST(emu_tsc_stops_while_paused),
};
TEST_MAIN("vm", tests)
