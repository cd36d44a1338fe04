#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "base/params.h"

static int log_level = -1;
static int log_subsys = BRAID_SUB_ALL;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;
static char host_name[64];
static _Thread_local int log_rank = -1;

static const struct {
    const char *name;
    int bit;
} subsys_names[] = {
    {"INIT", BRAID_SUB_INIT},     {"BOOT", BRAID_SUB_BOOT},     {"TOPO", BRAID_SUB_TOPO},
    {"PLAN", BRAID_SUB_PLAN},     {"COLL", BRAID_SUB_COLL},     {"SHM", BRAID_SUB_SHM},
    {"NET", BRAID_SUB_NET},       {"PROXY", BRAID_SUB_PROXY},   {"ENV", BRAID_SUB_ENV},
    {"TUNING", BRAID_SUB_TUNING}, {"DEVICE", BRAID_SUB_DEVICE}, {"ALL", BRAID_SUB_ALL},
};

static int parse_subsys(const char *list)
{
    int exclude = list[0] == '^';
    int mask = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", list + exclude);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
        for (size_t i = 0; i < sizeof(subsys_names) / sizeof(subsys_names[0]); i++)
            if (strcasecmp(tok, subsys_names[i].name) == 0)
                mask |= subsys_names[i].bit;
    return exclude ? (BRAID_SUB_ALL & ~mask) : mask;
}

static void log_init(void)
{
    const char *level = braid__param_str("BRAID_DEBUG");
    log_level = BRAID_LOG_WARN;
    if (level && strcasecmp(level, "NONE") == 0)
        log_level = BRAID_LOG_NONE;
    else if (level && strcasecmp(level, "INFO") == 0)
        log_level = BRAID_LOG_INFO;
    else if (level && strcasecmp(level, "TRACE") == 0)
        log_level = BRAID_LOG_TRACE;
    const char *subsys = braid__param_str("BRAID_DEBUG_SUBSYS");
    if (subsys && subsys[0])
        log_subsys = parse_subsys(subsys);
    if (gethostname(host_name, sizeof(host_name)) != 0)
        snprintf(host_name, sizeof(host_name), "unknown-host");
    host_name[sizeof(host_name) - 1] = '\0';
}

int braid__log_level(void)
{
    pthread_once(&log_once, log_init);
    return log_level;
}

int braid__log_enabled(int subsys)
{
    return (log_subsys & subsys) != 0;
}

const char *braid__hostname(void)
{
    pthread_once(&log_once, log_init);
    return host_name;
}

void braid__log_set_rank(int rank)
{
    log_rank = rank;
}

static const char *subsys_name(int subsys)
{
    for (size_t i = 0; i < sizeof(subsys_names) / sizeof(subsys_names[0]); i++)
        if (subsys_names[i].bit == subsys)
            return subsys_names[i].name;
    return "ALL";
}

void braid__log(int level, int subsys, const char *file, int line, const char *fmt, ...)
{
    static const char *level_names[] = {"NONE", "WARN", "INFO", "TRACE"};
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    char rank[16] = "-";
    if (log_rank >= 0)
        snprintf(rank, sizeof(rank), "%d", log_rank);
    const char *base = strrchr(file, '/');
    /* One fprintf per line keeps lines from different threads whole. */
    if (level >= BRAID_LOG_TRACE)
        fprintf(stderr, "%s:%d:%s braid %s %s %s (%s:%d)\n", braid__hostname(), (int)getpid(), rank,
                level_names[level], subsys_name(subsys), msg, base ? base + 1 : file, line);
    else
        fprintf(stderr, "%s:%d:%s braid %s %s %s\n", braid__hostname(), (int)getpid(), rank,
                level_names[level], subsys_name(subsys), msg);
}
