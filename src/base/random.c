#include "base/random.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "base/error.h"

braid_result_t braid__random_bytes(void *buf, size_t len)
{
    char *p = buf;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return braid__err(BRAID_ERR_SYSTEM, "getrandom failed: %s", strerror(errno));
        p += n;
        len -= (size_t)n;
    }
    return BRAID_SUCCESS;
}
