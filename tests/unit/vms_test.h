/* Helpers shared by the vmstate device tests (test_vms_devices.c,
 * test_vms_apic_cpu.c, test_vms_mutate.c): save a section into memory,
 * load it back, compare and re-save, expect a rejection; an irq line
 * recorder; bus accessors. Include after test.h. */
#ifndef ROAM_TESTS_UNIT_VMS_TEST_H
#define ROAM_TESTS_UNIT_VMS_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/irq.h"
#include "core/timerq.h"
#include "migrate/vmstate.h"

/* Saves one section into a fresh membuf (the caller frees it). */
static inline void save(const struct vms_desc *d, uint8_t tag, uint32_t instance,
                        const void *state, struct membuf *mb)
{
    struct channel ch;
    struct stream_writer w;

    memset(mb, 0, sizeof(*mb));
    membuf_channel(&ch, mb);
    stream_writer_init(&w, &ch);
    vmstate_save_section(&w, tag, d, instance, state);
    CHECK_EQ(stream_flush(&w), 0);
    stream_writer_free(&w);
}

/* Loads the section in mb (from its start) into state. */
static inline int load(const struct vms_desc *d, struct membuf *mb, void *state,
                       void *opaque)
{
    struct channel ch;
    struct stream_reader r;
    struct stream_section sec;
    int rc;

    mb->pos = 0;
    membuf_channel(&ch, mb);
    stream_reader_init(&r, &ch);
    rc = stream_get_section(&r, &sec);
    CHECK_EQ(rc, 0);
    if (rc < 0)
        return rc;
    CHECK_STR(sec.name, d->name);
    CHECK_EQ(sec.version, 1);
    rc = vmstate_load(&r, d, &sec, state, opaque);
    if (rc == 0)
        CHECK_EQ(mb->pos, mb->len); /* the whole section was consumed */
    return rc;
}

static inline bool same_bytes(const struct membuf *a, const struct membuf *b)
{
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* The full check of one device: save src, load into dst, compare the
 * structs byte for byte (both sides start from zeroed memory, so padding
 * agrees) and re-save dst. */
static inline void roundtrip(const struct vms_desc *d, uint8_t tag, uint32_t instance,
                             const void *src, void *dst, void *dst_opaque, size_t size)
{
    struct membuf a, b;
    int rc;

    save(d, tag, instance, src, &a);
    rc = load(d, &a, dst, dst_opaque);
    if (rc < 0)
        printf("  %s: load failed: %s\n", d->name, err_msg());
    CHECK_EQ(rc, 0);
    CHECK(memcmp(src, dst, size) == 0);
    save(d, tag, instance, dst, &b);
    CHECK(same_bytes(&a, &b));
    membuf_free(&a);
    membuf_free(&b);
}

/* Saves a (corrupted) state and expects dst's post_load to refuse it with
 * a message that holds each of the needles. */
static inline void expect_reject(const struct vms_desc *d, const void *bad, void *dst,
                                 void *dst_opaque, const char *needle1, const char *needle2)
{
    struct membuf mb;
    int rc;

    save(d, STREAM_SEC_DEVICE, 0, bad, &mb);
    rc = load(d, &mb, dst, dst_opaque);
    CHECK_EQ(rc, -EINVAL);
    if (!strstr(err_msg(), needle1) || (needle2 && !strstr(err_msg(), needle2))) {
        printf("  message \"%s\" lacks \"%s\"%s%s\n", err_msg(), needle1, needle2 ? " or " : "",
               needle2 ? needle2 : "");
        CHECK(0);
    }
    membuf_free(&mb);
}

/* Records the level driven on an irq line and when it rose. */
#define VMS_TEST_MAX_RISES 64
struct irqrec {
    struct timerq *q;
    int level;
    unsigned rises;
    uint64_t rise_ns[VMS_TEST_MAX_RISES];
};

static inline void irqrec_set(void *opaque, int pin, int level)
{
    struct irqrec *r = opaque;

    if (level && !r->level) {
        if (r->rises < VMS_TEST_MAX_RISES)
            r->rise_ns[r->rises] = r->q ? timerq_now(r->q) : 0;
        r->rises++;
    }
    r->level = level;
}

static inline struct irq_line irqrec_line(struct irqrec *r, struct timerq *q)
{
    memset(r, 0, sizeof(*r));
    r->q = q;
    return (struct irq_line){irqrec_set, r, 0};
}

static inline void both_advance(struct timerq *a, struct timerq *b, uint64_t ns)
{
    timerq_advance(a, ns);
    timerq_advance(b, ns);
    CHECK_EQ(timerq_now(a), timerq_now(b));
}

static inline uint64_t rd(const struct bus_ops *ops, void *dev, uint64_t off,
                          unsigned size)
{
    return ops->read(dev, off, size);
}

static inline void wr(const struct bus_ops *ops, void *dev, uint64_t off, uint64_t v,
                      unsigned size)
{
    ops->write(dev, off, v, size);
}

#endif
