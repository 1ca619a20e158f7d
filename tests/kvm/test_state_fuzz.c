/* Machine state from a stream that is corrupt yet carries a right checksum
 * (a buggy or hostile source, or a file edited on purpose): the end
 * marker's CRC guards against a bad link, not against this. A real
 * snapshot of a running guest is taken on emu; then bytes of the config,
 * of the first RAM records and of every device and vCPU section's payload
 * are changed one at a time, the CRC fixed up, and the stream loaded into
 * a fresh VM. Each load either fails with a message or gives a VM, which
 * then runs for a moment: whatever the state says, the VMM must not crash
 * (CI runs this under ASan and UBSan) and a failed load never starts the
 * VM. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/config.h"
#include "core/log.h"
#include "core/vm.h"
#include "host/host.h"
#include "migrate/channel.h"
#include "migrate/migrate.h"
#include "migrate/stream.h"
#include "test.h"

#define GUEST "build/guests/ioapic.elf"
#define SNAP "build/tests/state_fuzz.snap"
#define MUTANT "build/tests/state_fuzz.mutant"
#define ERRLOG "build/tests/state_fuzz.stderr.log"
#define PICKS 40
#define SMALL 32

static void guest_config(struct vm_config *cfg, const char *incoming)
{
    config_defaults(cfg);
    cfg->engine = "emu";
    cfg->mem_size = 4ull << 20;
    cfg->serial = SERIAL_FILE;
    cfg->serial_path = "build/tests/state_fuzz.serial.log";
    if (incoming) {
        cfg->incoming = incoming;
    } else {
        cfg->kernel = GUEST;
        /* the RTC through the IOAPIC, for long enough */
        cfg->cmdline = "source=rtc ticks=100000";
    }
}

static int file_read(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 1 << 20, n = 0, got;
    uint8_t *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                b = NULL;
                break;
            }
            b = nb;
            cap *= 2;
        }
    }
    fclose(f);
    *data = b;
    *len = n;
    return b ? 0 : -1;
}

static int file_write(const char *path, const uint8_t *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(data, 1, len, f);
    return fclose(f) == 0 && n == len ? 0 : -1;
}

/* Where the device and vCPU sections' payloads lie in the stream. */
struct span {
    size_t at, len;
    char name[STREAM_NAME_MAX + 1];
};

static unsigned state_spans(const uint8_t *data, size_t len, struct span *sp, unsigned max)
{
    struct membuf mb = {(uint8_t *)data, len, len, 0};
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    uint32_t version;
    unsigned n = 0;

    membuf_channel(&ch, &mb);
    stream_reader_init(&r, &ch);
    if (stream_get_header(&r, &version) < 0)
        return 0;
    bool ram_seen = false;
    while (stream_get_section(&r, &sec) == 0 && sec.tag != STREAM_SEC_END) {
        /* the config, the first records of the first RAM section (their
         * addresses and kinds), every device and vCPU section */
        bool first_ram = sec.tag == STREAM_SEC_RAM && !ram_seen;
        if ((sec.tag == STREAM_SEC_DEVICE || sec.tag == STREAM_SEC_CPU ||
             sec.tag == STREAM_SEC_CONFIG || first_ram) &&
            n < max && sec.length) {
            sp[n].at = (size_t)r.bytes;
            sp[n].len = (size_t)(first_ram && sec.length > 24 ? 24 : sec.length);
            snprintf(sp[n].name, sizeof(sp[n].name), "%s", sec.name);
            n++;
        }
        ram_seen |= sec.tag == STREAM_SEC_RAM;
        if (stream_skip(&r, sec.length) < 0)
            return 0;
    }
    return n;
}

/* Loads the stream in MUTANT into a fresh VM; a VM that loads runs for a
 * moment and is stopped. Returns the load's result. */
static int load_and_run(bool *ran)
{
    struct vm_config cfg;
    struct vm *vm = NULL;
    int rc;

    *ran = false;
    guest_config(&cfg, "file:" MUTANT);
    if (vm_create(&vm, &cfg) < 0)
        return -1000;
    rc = migrate_incoming(vm, "file:" MUTANT);
    if (rc == 0) {
        /* loaded and started */
        *ran = vm->state == VM_STATE_RUNNING;
        host_sleep_ns(2 * 1000 * 1000);
        vm_request_stop(vm, VM_STATUS_INTERRUPTED, "test over");
        (void)vm_wait(vm);
    } else {
        /* a failed load says why, and the VM never ran */
        CHECK(err_msg()[0] != 0);
        CHECK(vm->state != VM_STATE_RUNNING);
    }
    vm_destroy(vm);
    return rc;
}

static void corrupt_state_sections(void)
{
    struct vm_config cfg;
    struct vm *vm = NULL;
    uint8_t *data = NULL, *m = NULL;
    size_t len = 0;
    struct span sp[64];

    if (access(GUEST, R_OK) != 0)
        SKIP("%s is not built (make guests)", GUEST);
    guest_config(&cfg, NULL);
    CHECK_EQ(vm_create(&vm, &cfg), 0);
    if (!vm)
        return;
    CHECK_EQ(vm_start(vm), 0);
    host_sleep_ns(200 * 1000 * 1000); /* timers armed, interrupts flowing */
    CHECK_EQ(snapshot_save(vm, SNAP), 0);
    vm_request_stop(vm, VM_STATUS_INTERRUPTED, "test over");
    (void)vm_wait(vm);
    vm_destroy(vm);
    CHECK_EQ(file_read(SNAP, &data, &len), 0);
    if (!data || len < 8)
        return;
    unsigned n = state_spans(data, len, sp, 64);
    CHECK(n >= 8); /* config, RAM, vm, vcpu, cpu, and the devices */
    m = malloc(len);
    CHECK(m != NULL);
    if (!m) {
        free(data);
        return;
    }
    /* The unchanged snapshot loads and runs. */
    bool ran;
    memcpy(m, data, len);
    CHECK_EQ(file_write(MUTANT, m, len), 0);
    CHECK_EQ(load_and_run(&ran), 0);
    CHECK(ran);

    /* Every byte with three values each (ROAM_FUZZ_ALL=1: ~14,000 loads,
     * minutes under ASan), or by default: every byte of a section of up to
     * SMALL bytes inverted and set to all ones, and PICKS bytes of a larger
     * one picked by a fixed sequence, with one of four values each. */
    const char *all_env = getenv("ROAM_FUZZ_ALL");
    bool all = all_env && strcmp(all_env, "1") == 0;
    unsigned loads = 0, refused = 0;
    uint64_t lcg = 0x9e3779b97f4a7c15ull;
    /* The corrupt guests' and devices' complaints (thousands of lines) go
     * to a file, each load named before it: after a crash (a sanitizer's
     * report) its tail names the mutation. The checks print on stdout. */
    enum log_level level = log_get_level();
    log_set_level(LOG_ERROR);
    fflush(stderr);
    int saved_err = dup(2), devnull = open(ERRLOG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved_err >= 0 && devnull >= 0)
        dup2(devnull, 2);
    for (unsigned s = 0; s < n; s++) {
        bool every = all || sp[s].len <= SMALL;
        unsigned per = all ? 3 : 2;
        size_t picks = every ? sp[s].len * per : PICKS;
        for (size_t p = 0; p < picks; p++) {
            lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
            size_t i = every ? p / per : (size_t)((lcg >> 33) % sp[s].len);
            unsigned v = every ? (unsigned)(p % per) : (unsigned)(lcg >> 61) % 4;
            {
                memcpy(m, data, len);
                uint8_t *b = m + sp[s].at + i;
                uint8_t old = *b;
                *b = v == 0 ? (uint8_t)~old : v == 1 ? 0xff : v == 2 ? 0x00 : (uint8_t)(old + 1);
                if (*b == old)
                    continue;
                fprintf(stderr, "--- %s byte %zu: 0x%02x -> 0x%02x\n", sp[s].name, i, old, *b);
                fflush(stderr);
                uint32_t crc = crc32c(0, m, len - 4);
                for (unsigned k = 0; k < 4; k++)
                    m[len - 4 + k] = (uint8_t)(crc >> (8 * k));
                if (file_write(MUTANT, m, len) < 0) {
                    CHECK(0);
                    continue;
                }
                int rc = load_and_run(&ran);
                CHECK(rc != -1000);
                loads++;
                refused += rc < 0;
            }
        }
    }
    log_set_level(level);
    if (saved_err >= 0 && devnull >= 0) {
        fflush(stderr);
        dup2(saved_err, 2);
    }
    if (saved_err >= 0)
        close(saved_err);
    if (devnull >= 0)
        close(devnull);
    printf("  %u sections, %u corrupt loads: %u refused with a message, %u ran (their stderr: "
           "%s)\n", n, loads, refused, loads - refused, ERRLOG);
    CHECK(loads > 0 && refused > 0);
    free(m);
    free(data);
    remove(MUTANT);
    remove(SNAP);
}

static const struct test_case tests[] = {
    TEST(corrupt_state_sections),
};
TEST_MAIN("state_fuzz", tests)
