/* RAM in the migration stream (docs/migration-format.md, "RAM sections").
 * A RAM section (tag STREAM_SEC_RAM, name "ram", instance = round number)
 * holds page records: a u64 whose bits 63-12 are the guest-physical page
 * address and bits 11-0 the kind (RAM_REC_PAGE: 4096 bytes follow;
 * RAM_REC_ZERO: the page is all zeros). */
#ifndef ROAM_MIGRATE_RAM_H
#define ROAM_MIGRATE_RAM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/mem.h"
#include "migrate/stream.h"

#define RAM_REC_PAGE 1u
#define RAM_REC_ZERO 2u
#define RAM_SECTION_VERSION 1u
#define RAM_BATCH_PAGES 64u

struct ram_sender {
    struct stream_writer *w;
    const struct guest_mem *mem;
    uint32_t round;
    uint8_t *batch;          /* one section's payload being built */
    size_t batch_len;
    unsigned batch_records;
    uint64_t pages, zero_pages; /* totals */
    uint64_t first_left; /* pages the first pass has still to read (not the untouched) */
    /* Called after each section: paces the stream to the bandwidth limit
     * and may stop it (by setting w->error, e.g. on cancel). May be NULL. */
    void (*pace)(void *opaque, struct stream_writer *w);
    void *pace_opaque;
};

MUST_CHECK int ram_sender_init(struct ram_sender *s, struct stream_writer *w,
                               const struct guest_mem *mem);
void ram_sender_free(struct ram_sender *s);
/* Queues one page; skip_zero leaves zero pages out (the first pass into a
 * fresh, zeroed destination) while still counting them. */
void ram_send_page(struct ram_sender *s, uint64_t gpa, bool skip_zero);
/* Emits the pending batch as a section. */
void ram_flush(struct ram_sender *s);
/* Sends every page of every region (the first pass). */
void ram_send_all(struct ram_sender *s, bool skip_zero);
/* Sends the pages set in a region's dirty bitmap from page *from on, in
 * address order, clearing each bit as its page goes out, until max pages
 * went or the region ends; *from is left at the next page to look at (the
 * region's page count once it is done). Returns the pages sent. */
uint64_t ram_send_dirty(struct ram_sender *s, unsigned region, uint64_t *bitmap, uint64_t *from,
                        uint64_t max);
/* The destination's side: a buffer that takes a whole section at a time. */
#define RAM_LOAD_BUF (1u << 20)
struct ram_loader {
    const struct guest_mem *mem;
    uint8_t *buf; /* RAM_LOAD_BUF bytes, or NULL */
};
void ram_loader_init(struct ram_loader *ld, const struct guest_mem *mem);
void ram_loader_free(struct ram_loader *ld);
/* Loads one RAM section payload into guest memory, checking every address. */
MUST_CHECK int ram_load_section(struct stream_reader *r, const struct stream_section *sec,
                                struct ram_loader *ld);
/* Prints a RAM section's summary (pages, zero pages, address range). */
MUST_CHECK int ram_dump_section(struct stream_reader *r, const struct stream_section *sec,
                                void (*print)(void *ctx, const char *line), void *ctx);
bool ram_page_is_zero(const void *page);

#endif
