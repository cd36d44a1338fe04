#include <stdio.h>
#include <string.h>

#include "base/check.h"
#include "base/random.h"
#include "core/bootstrap.h"

#define ID_MAGIC  0x44495242u /* "BRID" */
#define ID_FORMAT 1

_Static_assert(sizeof(struct braid_id_layout) <= BRAID_UNIQUE_ID_BYTES,
               "the id layout must fit in braid_unique_id_t");

/* FNV-1a: detects damage in transit, not forgery (the secret does that). */
static uint32_t checksum(const void *data, size_t len)
{
    const uint8_t *p = data;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

void braid__id_encode(const struct braid_id_layout *layout, braid_unique_id_t *id)
{
    struct braid_id_layout copy = *layout;
    copy.magic = ID_MAGIC;
    copy.format = ID_FORMAT;
    copy.checksum = checksum(&copy, offsetof(struct braid_id_layout, checksum));
    memset(id, 0, sizeof(*id));
    memcpy(id->internal, &copy, sizeof(copy));
}

braid_result_t braid__id_decode(const braid_unique_id_t *id, struct braid_id_layout *out)
{
    memcpy(out, id->internal, sizeof(*out));
    if (out->magic != ID_MAGIC)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "id: not a braid unique id (bad magic); pass the id from "
                          "braid_get_unique_id() to every rank unchanged");
    if (out->format != ID_FORMAT)
        return braid__err(BRAID_ERR_VERSION_MISMATCH,
                          "id: format %u, this build reads format %u; use one braid build for "
                          "the whole job",
                          out->format, ID_FORMAT);
    if (out->checksum != checksum(out, offsetof(struct braid_id_layout, checksum)))
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "id: checksum mismatch: the unique id was damaged on its way to this "
                          "rank (copied partially, or as text?)");
    return BRAID_SUCCESS;
}
