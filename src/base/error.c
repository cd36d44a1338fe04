#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

#include "base/log.h"

static _Thread_local char err_detail[BRAID_ERR_MSG_MAX];
static _Thread_local char err_trail[256];
static _Thread_local char err_text[BRAID_ERR_MSG_MAX];
static _Thread_local int err_frames;

#define ERR_MAX_FRAMES 6

braid_result_t braid__err(braid_result_t code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err_detail, sizeof(err_detail), fmt, ap);
    va_end(ap);
    err_trail[0] = '\0';
    err_frames = 0;
    BRAID_LOG(BRAID_LOG_INFO, BRAID_SUB_ALL, "%s: %s", braid_result_string(code), err_detail);
    return code;
}

static const char *basename_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void braid__err_trail(const char *file, int line)
{
    if (err_detail[0] == '\0' || err_frames >= ERR_MAX_FRAMES)
        return;
    size_t len = strlen(err_trail);
    snprintf(err_trail + len, sizeof(err_trail) - len, "%s%s:%d", err_frames ? " < " : "",
             basename_of(file), line);
    err_frames++;
}

const char *braid__err_text(void)
{
    if (err_detail[0] == '\0')
        return "";
    if (err_trail[0] != '\0')
        snprintf(err_text, sizeof(err_text), "%s [at %s]", err_detail, err_trail);
    else
        snprintf(err_text, sizeof(err_text), "%s", err_detail);
    return err_text;
}

void braid__err_clear(void)
{
    err_detail[0] = '\0';
    err_trail[0] = '\0';
    err_frames = 0;
}

void braid__err_copy(char *dst)
{
    snprintf(dst, BRAID_ERR_MSG_MAX, "%s", braid__err_text());
}
