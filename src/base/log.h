/*
 * Logging: one line per event on stderr, "host:pid:rank LEVEL SUBSYS message". The level comes
 * from BRAID_DEBUG (WARN, INFO, TRACE; default WARN) and the subsystems from
 * BRAID_DEBUG_SUBSYS (a comma list of the names below, ^ to exclude; default ALL). The rank is
 * per thread: public entry points set it to the comm's rank.
 */
#ifndef BRAID_BASE_LOG_H
#define BRAID_BASE_LOG_H

enum braid_log_level {
    BRAID_LOG_NONE = 0,
    BRAID_LOG_WARN = 1,
    BRAID_LOG_INFO = 2,
    BRAID_LOG_TRACE = 3,
};

enum braid_log_subsys {
    BRAID_SUB_INIT = 1 << 0,    /* comm lifecycle */
    BRAID_SUB_BOOT = 1 << 1,    /* bootstrap, rendezvous, interfaces */
    BRAID_SUB_TOPO = 1 << 2,    /* topology probes and files */
    BRAID_SUB_PLAN = 1 << 3,    /* plan building, algorithm choice */
    BRAID_SUB_COLL = 1 << 4,    /* collective calls */
    BRAID_SUB_SHM = 1 << 5,     /* shared-memory transport */
    BRAID_SUB_NET = 1 << 6,     /* network transports */
    BRAID_SUB_PROXY = 1 << 7,   /* proxy progress thread */
    BRAID_SUB_ENV = 1 << 8,     /* settings */
    BRAID_SUB_TUNING = 1 << 9,  /* the cost model's choices */
    BRAID_SUB_DEVICE = 1 << 10, /* the device executor and the devices it runs on */
    BRAID_SUB_ALL = 0x7fffffff,
};

/* The current level; reads BRAID_DEBUG once. */
int braid__log_level(void);
/* Whether subsys is enabled by BRAID_DEBUG_SUBSYS. */
int braid__log_enabled(int subsys);
void braid__log(int level, int subsys, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Sets the rank shown in this thread's log lines (-1: none). */
void braid__log_set_rank(int rank);
/* This host's name, for messages (cached). */
const char *braid__hostname(void);

#define BRAID_LOG(level, subsys, ...)                                                              \
    do {                                                                                           \
        if (braid__log_level() >= (level) && braid__log_enabled(subsys))                           \
            braid__log((level), (subsys), __FILE__, __LINE__, __VA_ARGS__);                        \
    } while (0)

#define BRAID_WARN(subsys, ...)  BRAID_LOG(BRAID_LOG_WARN, BRAID_SUB_##subsys, __VA_ARGS__)
#define BRAID_INFO(subsys, ...)  BRAID_LOG(BRAID_LOG_INFO, BRAID_SUB_##subsys, __VA_ARGS__)
#define BRAID_TRACE(subsys, ...) BRAID_LOG(BRAID_LOG_TRACE, BRAID_SUB_##subsys, __VA_ARGS__)

#endif
