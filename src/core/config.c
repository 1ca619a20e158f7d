/* Parsing of configuration values; see core/config.h. */
#include "core/config.h"

#include <ctype.h>
#include <string.h>

int config_parse_size(const char *s, uint64_t *out)
{
    uint64_t v = 0, mult = 1ull << 20;
    const char *p = s;

    if (!s || !isdigit((unsigned char)*p))
        return err_set(-EINVAL, "'%s' is not a size (examples: 256M, 1G)", s ? s : "");
    while (isdigit((unsigned char)*p)) {
        if (v > (UINT64_MAX - 9) / 10)
            return err_set(-ERANGE, "size '%s' is too large", s);
        v = v * 10 + (uint64_t)(*p - '0');
        p++;
    }
    switch (toupper((unsigned char)*p)) {
    case 0: break;
    case 'B': mult = 1; p++; break;
    case 'K': mult = 1ull << 10; p++; break;
    case 'M': mult = 1ull << 20; p++; break;
    case 'G': mult = 1ull << 30; p++; break;
    case 'T': mult = 1ull << 40; p++; break;
    default:
        return err_set(-EINVAL, "'%s' is not a size (examples: 256M, 1G)", s);
    }
    if (mult > 1 && (*p == 'i' || *p == 'I') && toupper((unsigned char)p[1]) == 'B')
        p += 2;
    else if (mult > 1 && toupper((unsigned char)*p) == 'B')
        p++;
    if (*p)
        return err_set(-EINVAL, "'%s' is not a size (examples: 256M, 1G)", s);
    if (v > UINT64_MAX / mult)
        return err_set(-ERANGE, "size '%s' is too large", s);
    *out = v * mult;
    return 0;
}

int config_parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    unsigned long long v = 0;
    const char *p = s;

    if (!s || !*s)
        return err_set(-EINVAL, "expected a number, got nothing");
    for (; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return err_set(-EINVAL, "'%s' is not a number", s);
        v = v * 10 + (unsigned)(*p - '0');
        if (v > max)
            return err_set(-ERANGE, "%s is out of range (%u-%u)", s, min, max);
    }
    if (v < min)
        return err_set(-ERANGE, "%s is out of range (%u-%u)", s, min, max);
    *out = (unsigned)v;
    return 0;
}

int config_parse_serial(const char *s, enum serial_mode *mode, const char **path)
{
    *path = NULL;
    if (strcmp(s, "stdio") == 0) {
        *mode = SERIAL_STDIO;
    } else if (strcmp(s, "none") == 0) {
        *mode = SERIAL_NONE;
    } else if (strncmp(s, "file:", 5) == 0 && s[5]) {
        *mode = SERIAL_FILE;
        *path = s + 5;
    } else {
        return err_set(-EINVAL, "bad serial backend '%s' (use stdio, none or file:PATH)", s);
    }
    return 0;
}

void config_defaults(struct vm_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mem_size = 256ull << 20;
    cfg->ncpus = 1;
    cfg->engine = "auto";
    cfg->cmdline = "";
    cfg->serial = SERIAL_STDIO;
}
