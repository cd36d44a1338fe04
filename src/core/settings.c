/*
 * Settings resolution: a config field wins, else the BRAID_* variable, else the inherited
 * value (split), else the default. Every bad value fails with the field or variable named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/params.h"
#include "collectives/plan.h"
#include "core/comm.h"

static braid_result_t pick_int(int config_value, const char *field, const char *var, long min,
                               long max, const int *inherit, int *out)
{
    if (config_value != BRAID_CONFIG_UNSET) {
        if (config_value < min || config_value > max)
            return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                              "config.%s = %d is out of range; give "
                              "a value in [%ld, %ld] or BRAID_CONFIG_UNSET",
                              field, config_value, min, max);
        *out = config_value;
        return BRAID_SUCCESS;
    }
    if (inherit && !getenv(var)) {
        *out = *inherit;
        return BRAID_SUCCESS;
    }
    long value;
    BRAID_CHECK(braid__param_int(var, min, max, &value));
    *out = (int)value;
    return BRAID_SUCCESS;
}

static braid_result_t pick_algo(const char *config_value, const int *inherit, int *out)
{
    const char *name = config_value;
    const char *source = "config.algorithm";
    if (!name && inherit) {
        *out = *inherit;
        return BRAID_SUCCESS;
    }
    if (!name) {
        name = braid__param_str("BRAID_ALGO");
        source = "BRAID_ALGO";
    }
    *out = -1;
    if (!name || !name[0])
        return BRAID_SUCCESS;
    const struct braid_algo_desc *algo = braid__algo_find(name);
    if (!algo)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s = \"%s\" is not an algorithm; choose "
                          "ring, tree, pairwise or oneshot",
                          source, name);
    *out = algo->id;
    return BRAID_SUCCESS;
}

static braid_result_t pick_proto(const char *config_value, int *out)
{
    const char *name = config_value ? config_value : braid__param_str("BRAID_PROTO");
    *out = 0;
    if (name && name[0] && strcasecmp(name, "simple") != 0)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "%s = \"%s\" is not a protocol of this "
                          "build; choose simple",
                          config_value ? "config.protocol" : "BRAID_PROTO", name);
    return BRAID_SUCCESS;
}

static braid_result_t check_config_header(const braid_config_t *config)
{
    if (config->size != sizeof(braid_config_t) || config->version != BRAID_CONFIG_VERSION)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "config: size %zu / version %u do not match "
                          "this library (%zu / %u); initialise it with BRAID_CONFIG_INIT and "
                          "rebuild against this braid.h",
                          config->size, config->version, sizeof(braid_config_t),
                          BRAID_CONFIG_VERSION);
    return BRAID_SUCCESS;
}

braid_result_t braid__settings_resolve(const braid_config_t *config,
                                       const struct braid_settings *inherit,
                                       struct braid_settings *out)
{
    braid_config_t defaults = BRAID_CONFIG_INIT;
    if (!config)
        config = &defaults;
    BRAID_CHECK(check_config_header(config));
    const struct braid_settings *in = inherit;
    memset(out, 0, sizeof(*out));
    BRAID_CHECK(pick_int(config->blocking, "blocking", "BRAID_BLOCKING", 0, 1,
                         in ? &in->blocking : NULL, &out->blocking));
    BRAID_CHECK(pick_int(config->timeout_ms, "timeout_ms", "BRAID_TIMEOUT_MS", 1, 0x7fffffff,
                         in ? &in->timeout_ms : NULL, &out->timeout_ms));
    BRAID_CHECK(pick_int(config->connect_timeout_ms, "connect_timeout_ms",
                         "BRAID_CONNECT_TIMEOUT_MS", 1, 0x7fffffff,
                         in ? &in->connect_timeout_ms : NULL, &out->connect_timeout_ms));
    BRAID_CHECK(pick_int(config->nchannels, "nchannels", "BRAID_NCHANNELS", 1, BRAID_MAX_CHANNELS,
                         in ? &in->shared.nchannels : NULL, &out->shared.nchannels));
    BRAID_CHECK(pick_int(config->slot_size, "slot_size", "BRAID_SLOT_SIZE", 4096, 16 << 20,
                         in ? &in->shared.slot_size : NULL, &out->shared.slot_size));
    BRAID_CHECK(pick_int(config->nslots, "nslots", "BRAID_NSLOTS", BRAID_PLAN_MIN_SLOTS, 64,
                         in ? &in->shared.nslots : NULL, &out->shared.nslots));
    BRAID_CHECK(pick_algo(config->algorithm, in ? &in->shared.algo : NULL, &out->shared.algo));
    BRAID_CHECK(pick_proto(config->protocol, &out->proto));
    long value;
    BRAID_CHECK(braid__param_int("BRAID_TREE_MAX_BYTES", 0, 0x7fffffff, &value));
    out->shared.tree_max_bytes = (int32_t)value;
    BRAID_CHECK(braid__param_int("BRAID_ONESHOT_MAX_BYTES", 0, 0x7fffffff, &value));
    out->shared.oneshot_max_bytes = (int32_t)value;
    /* Slots hold whole elements of every dtype: keep them a multiple of 8 bytes. */
    out->shared.slot_size &= ~7;
    out->shared.slot_size_chosen = config->slot_size != BRAID_CONFIG_UNSET ||
                                   getenv("BRAID_SLOT_SIZE") != NULL ||
                                   (in && in->shared.slot_size_chosen);
    const char *name = config->name ? config->name : braid__param_str("BRAID_COMM_NAME");
    if (!name && in)
        name = in->name;
    snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
    return BRAID_SUCCESS;
}
