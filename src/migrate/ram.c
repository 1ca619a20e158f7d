/* RAM page records in the migration stream; see migrate/ram.h. */
#include "migrate/ram.h"

#include "core/bytes.h"
#include "host/host.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RAM_REC_MAX (8 + GMEM_PAGE_SIZE)

bool ram_page_is_zero(const void *page)
{
    const uint64_t *p = page;
    uint64_t acc = 0;

    for (size_t i = 0; i < GMEM_PAGE_SIZE / 8; i += 8)
        acc |= p[i] | p[i + 1] | p[i + 2] | p[i + 3] | p[i + 4] | p[i + 5] | p[i + 6] | p[i + 7];
    return acc == 0;
}

int ram_sender_init(struct ram_sender *s, struct stream_writer *w, const struct guest_mem *mem)
{
    memset(s, 0, sizeof(*s));
    s->w = w;
    s->mem = mem;
    s->batch = malloc(RAM_BATCH_PAGES * RAM_REC_MAX);
    if (!s->batch)
        return err_set(-ENOMEM, "out of memory");
    return 0;
}

void ram_sender_free(struct ram_sender *s)
{
    free(s->batch);
    s->batch = NULL;
}

void ram_flush(struct ram_sender *s)
{
    if (!s->batch_records)
        return;
    stream_put_section(s->w, STREAM_SEC_RAM, "ram", s->round, RAM_SECTION_VERSION, s->batch_len);
    stream_put_bytes(s->w, s->batch, s->batch_len);
    s->batch_len = 0;
    s->batch_records = 0;
    if (s->pace)
        s->pace(s->pace_opaque, s->w);
}

void ram_send_page(struct ram_sender *s, uint64_t gpa, bool skip_zero)
{
    const uint8_t *p = gmem_ptr(s->mem, gpa, GMEM_PAGE_SIZE);

    if (!p)
        return;
    /* The copy is taken now: a vCPU may write the page again at any time,
     * and the dirty log will send it again in a later round. */
    if (ram_page_is_zero(p)) {
        s->zero_pages++;
        if (skip_zero)
            return;
        le64_put(s->batch + s->batch_len, gpa | RAM_REC_ZERO);
        s->batch_len += 8;
    } else {
        s->pages++;
        le64_put(s->batch + s->batch_len, gpa | RAM_REC_PAGE);
        memcpy(s->batch + s->batch_len + 8, p, GMEM_PAGE_SIZE);
        s->batch_len += RAM_REC_MAX;
    }
    if (++s->batch_records == RAM_BATCH_PAGES)
        ram_flush(s);
}

void ram_send_all(struct ram_sender *s, bool skip_zero)
{
    uint64_t *untouched[GMEM_MAX_REGIONS] = {0};

    /* Pages the guest never touched are zero without reading them: the
     * first pass then costs what the guest used, not its memory size. They
     * are found first, so that first_left counts only the pages to read. */
    s->first_left = 0;
    for (unsigned i = 0; i < s->mem->count; i++) {
        const struct mem_region *r = &s->mem->region[i];
        uint64_t npages = r->size / GMEM_PAGE_SIZE, words = (npages + 63) / 64;
        s->first_left += npages;
        if (!skip_zero || !(untouched[i] = malloc(words * sizeof(uint64_t))))
            continue;
        if (host_mem_untouched(r->hva, (size_t)r->size, untouched[i]) < 0) {
            free(untouched[i]);
            untouched[i] = NULL;
            continue;
        }
        for (uint64_t w = 0; w < words; w++)
            s->first_left -= (uint64_t)__builtin_popcountll(untouched[i][w]);
    }
    for (unsigned i = 0; i < s->mem->count; i++) {
        const struct mem_region *r = &s->mem->region[i];
        uint64_t npages = r->size / GMEM_PAGE_SIZE;
        for (uint64_t pg = 0; pg < npages && !s->w->error; pg++) {
            if (untouched[i] && (untouched[i][pg / 64] >> (pg % 64) & 1)) {
                s->zero_pages++;
                continue;
            }
            ram_send_page(s, r->gpa + pg * GMEM_PAGE_SIZE, skip_zero);
            s->first_left--;
        }
        free(untouched[i]);
    }
    ram_flush(s);
}

uint64_t ram_send_dirty(struct ram_sender *s, unsigned region, uint64_t *bitmap, uint64_t *from,
                        uint64_t max)
{
    const struct mem_region *r = &s->mem->region[region];
    uint64_t npages = r->size / GMEM_PAGE_SIZE, sent = 0, page = *from;

    while (page < npages && sent < max && !s->w->error) {
        uint64_t w = page / 64, bits = bitmap[w] & (~0ull << (page % 64));
        if (!bits) {
            page = (w + 1) * 64;
            continue;
        }
        page = w * 64 + (unsigned)__builtin_ctzll(bits);
        if (page >= npages)
            break;
        bitmap[w] &= ~(1ull << (page % 64));
        ram_send_page(s, r->gpa + page * GMEM_PAGE_SIZE, false);
        sent++;
        page++;
    }
    *from = page < npages ? page : npages;
    ram_flush(s);
    return sent;
}

/* Checks a record header rec with *left bytes of its section to go (the
 * header taken off): a PAGE record's 4096 bytes must fit too. */
static int ram_check_record(uint64_t rec, uint64_t *left, uint64_t *gpa, uint64_t *kind)
{
    *gpa = rec & ~(GMEM_PAGE_SIZE - 1);
    *kind = rec & (GMEM_PAGE_SIZE - 1);
    if (*kind == RAM_REC_PAGE) {
        if (*left < GMEM_PAGE_SIZE)
            return err_set(-EBADMSG, "RAM section: truncated page at 0x%llx",
                           (unsigned long long)*gpa);
        *left -= GMEM_PAGE_SIZE;
    } else if (*kind != RAM_REC_ZERO) {
        return err_set(-EBADMSG, "RAM section: unknown record kind %llu at 0x%llx",
                       (unsigned long long)*kind, (unsigned long long)*gpa);
    }
    return 0;
}

/* Reads the next page record header of a section with *left bytes to go
 * (the caller then reads or skips a PAGE record's 4096 bytes). */
static int ram_next_record(struct stream_reader *r, uint64_t *left, uint64_t *gpa, uint64_t *kind)
{
    uint64_t rec;
    int rc;

    if (*left < 8)
        return err_set(-EBADMSG, "RAM section: truncated page record");
    if ((rc = stream_get_u64(r, &rec)) < 0)
        return rc;
    *left -= 8;
    return ram_check_record(rec, left, gpa, kind);
}

/* The same on a section read into memory: *p moves past the header. */
static int ram_parse_record(const uint8_t **p, uint64_t *left, uint64_t *gpa, uint64_t *kind)
{
    if (*left < 8)
        return err_set(-EBADMSG, "RAM section: truncated page record");
    uint64_t rec = le64_get(*p);
    *p += 8;
    *left -= 8;
    return ram_check_record(rec, left, gpa, kind);
}

/* ---- loading ---- */

void ram_loader_init(struct ram_loader *ld, const struct guest_mem *mem)
{
    ld->mem = mem;
    /* Without a buffer, sections are read record by record. */
    ld->buf = malloc(RAM_LOAD_BUF);
}

void ram_loader_free(struct ram_loader *ld)
{
    free(ld->buf);
    ld->buf = NULL;
}

/* Stores one record's page (ZERO: data is NULL). */
static int ram_load_page(struct ram_loader *ld, uint64_t gpa, const uint8_t *data,
                         struct stream_reader *r)
{
    uint8_t *p = gmem_ptr(ld->mem, gpa, GMEM_PAGE_SIZE);
    if (!p)
        return err_set(-EBADMSG, "RAM page 0x%llx is outside guest memory",
                       (unsigned long long)gpa);
    if (!data && !r)
        memset(p, 0, GMEM_PAGE_SIZE);
    else if (data)
        memcpy(p, data, GMEM_PAGE_SIZE);
    else
        return stream_get_bytes(r, p, GMEM_PAGE_SIZE);
    return 0;
}

/* Faults in the guest pages a buffered section is about to fill, a run of
 * consecutive pages at a time: the destination's memory is fresh, and one
 * call per run is far cheaper than a page fault per page where faults are
 * dear (this project's nested hosts: 4 KiB pages, emu's RAM). A damaged
 * section stops the runs; the load below reports it. */
static void ram_populate_run(struct ram_loader *ld, uint64_t gpa, uint64_t pages)
{
    uint8_t *hva = pages > 1 ? gmem_ptr(ld->mem, gpa, pages * GMEM_PAGE_SIZE) : NULL;
    if (hva) /* a run across two regions is left to the page faults */
        host_mem_populate(hva, pages * GMEM_PAGE_SIZE);
}

static void ram_populate_runs(struct ram_loader *ld, const uint8_t *p, uint64_t left)
{
    uint64_t gpa, kind, start = 0, pages = 0;

    while (left) {
        if (ram_parse_record(&p, &left, &gpa, &kind) < 0)
            break;
        if (kind != RAM_REC_PAGE)
            continue;
        p += GMEM_PAGE_SIZE;
        if (pages && gpa == start + pages * GMEM_PAGE_SIZE) {
            pages++;
            continue;
        }
        ram_populate_run(ld, start, pages);
        start = gpa;
        pages = 1;
    }
    ram_populate_run(ld, start, pages);
}

/* The sender's sections (RAM_BATCH_PAGES records) are read whole, with one
 * read and one CRC call instead of two reads per page; a section larger
 * than the buffer is read record by record. Either way a record is
 * checked before its page is written. */
int ram_load_section(struct stream_reader *r, const struct stream_section *sec,
                     struct ram_loader *ld)
{
    uint64_t left = sec->length, gpa, kind;
    int rc;

    if (sec->version != RAM_SECTION_VERSION)
        return err_set(-EPROTO, "RAM section version %u is not supported (this roam reads %u)",
                       sec->version, RAM_SECTION_VERSION);
    if (ld->buf && left <= RAM_LOAD_BUF) {
        const uint8_t *p = ld->buf;
        if ((rc = stream_get_bytes(r, ld->buf, (size_t)left)) < 0)
            return rc;
        ram_populate_runs(ld, p, left);
        while (left) {
            if ((rc = ram_parse_record(&p, &left, &gpa, &kind)) < 0)
                return rc;
            if ((rc = ram_load_page(ld, gpa, kind == RAM_REC_ZERO ? NULL : p, NULL)) < 0)
                return rc;
            if (kind == RAM_REC_PAGE)
                p += GMEM_PAGE_SIZE;
        }
        return 0;
    }
    while (left) {
        if ((rc = ram_next_record(r, &left, &gpa, &kind)) < 0)
            return rc;
        if ((rc = ram_load_page(ld, gpa, NULL, kind == RAM_REC_ZERO ? NULL : r)) < 0)
            return rc;
    }
    return 0;
}

int ram_dump_section(struct stream_reader *r, const struct stream_section *sec,
                     void (*print)(void *ctx, const char *line), void *ctx)
{
    uint64_t left = sec->length, pages = 0, zeros = 0, lo = UINT64_MAX, hi = 0, gpa, kind;
    char line[200];
    int rc;

    while (left) {
        if ((rc = ram_next_record(r, &left, &gpa, &kind)) < 0)
            return rc;
        lo = gpa < lo ? gpa : lo;
        hi = gpa > hi ? gpa : hi;
        if (kind == RAM_REC_ZERO) {
            zeros++;
        } else {
            if ((rc = stream_skip(r, GMEM_PAGE_SIZE)) < 0)
                return rc;
            pages++;
        }
    }
    snprintf(line, sizeof(line), "  %llu pages, %llu zero pages, 0x%llx-0x%llx",
             (unsigned long long)pages, (unsigned long long)zeros,
             (unsigned long long)(pages + zeros ? lo : 0),
             (unsigned long long)(pages + zeros ? hi + GMEM_PAGE_SIZE - 1 : 0));
    print(ctx, line);
    return 0;
}
