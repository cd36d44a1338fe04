/*
 * What the driver loaders (drv_cuda.c, drv_nvml.c, drv_verbs.c) share: opening a library with
 * dlopen and resolving a list of entry points by name into a table of function pointers, with
 * the reason in words when that fails.
 */
#ifndef BRAID_BASE_DL_H
#define BRAID_BASE_DL_H

#include <stddef.h>

/* One entry point: its exported name and where its pointer goes in the loader's table. */
struct braid_dl_sym {
    const char *name;
    size_t offset;
    int required;
};

/*
 * Opens `lib` (RTLD_NOW | RTLD_LOCAL) and stores each symbol's address at table + offset
 * (NULL where an optional one is missing). Returns the library handle, or NULL with the reason
 * in why: "cannot load <lib> (<dlerror>)", or "<lib> lacks <symbol> (<hint>)" for the first
 * required entry point missing. The library stays loaded either way: a driver may have started
 * threads. Not thread-safe by itself; callers run it once (pthread_once).
 */
void *braid__dl_open(const char *lib, const struct braid_dl_sym *syms, size_t nsyms, void *table,
                     const char *hint, char *why, size_t whylen);

#endif
