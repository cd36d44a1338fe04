#include "base/dl.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

void *braid__dl_open(const char *lib, const struct braid_dl_sym *syms, size_t nsyms, void *table,
                     const char *hint, char *why, size_t whylen)
{
    void *handle = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        snprintf(why, whylen, "cannot load %s (%s)", lib, dlerror());
        return NULL;
    }
    const char *missing = NULL;
    for (size_t i = 0; i < nsyms; i++) {
        /* dlsym's object pointer becomes a function pointer through its bytes, the POSIX way. */
        void *addr = dlsym(handle, syms[i].name);
        memcpy((char *)table + syms[i].offset, &addr, sizeof(addr));
        if (!addr && syms[i].required && !missing)
            missing = syms[i].name;
    }
    if (missing) {
        snprintf(why, whylen, "%s lacks %s (%s)", lib, missing, hint);
        return NULL;
    }
    return handle;
}
