#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/check.h"
#include "base/log.h"
#include "base/params.h"
#include "transport/transport.h"

extern const struct braid_transport braid__shm_transport;
extern const struct braid_transport braid__socket_transport;

/* In order of preference; adding a transport is one file and one line here. */
static const struct braid_transport *const transports[] = {
    &braid__shm_transport,
    &braid__socket_transport,
};

#define NTRANSPORTS (sizeof(transports) / sizeof(transports[0]))

void braid__transports_quiesce(void)
{
    for (size_t i = 0; i < NTRANSPORTS; i++)
        if (transports[i]->quiesce)
            transports[i]->quiesce();
}

braid_result_t braid__transport_select(const struct braid_peer_info *self,
                                       const struct braid_peer_info *peer,
                                       const struct braid_transport **out)
{
    const char *forced = braid__param_str("BRAID_TRANSPORT");
    char names[128] = "";
    for (size_t i = 0; i < NTRANSPORTS; i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof(names) - len, "%s%s", i ? ", " : "", transports[i]->name);
    }
    for (size_t i = 0; i < NTRANSPORTS; i++) {
        const struct braid_transport *t = transports[i];
        if (forced && strcasecmp(forced, t->name) != 0)
            continue;
        if (!forced && !t->can_connect(self, peer))
            continue;
        if (forced && !t->can_connect(self, peer))
            return braid__err(BRAID_ERR_INVALID_USAGE,
                              "BRAID_TRANSPORT=%s cannot reach rank %d on host %s from host %s",
                              forced, peer->rank, peer->hostname, self->hostname);
        BRAID_INFO(NET, "rank %d (%s pid %d): transport %s (%s)", peer->rank, peer->hostname,
                   peer->pid, t->name,
                   forced ? "BRAID_TRANSPORT"
                   : self->host_hash == peer->host_hash
                       ? "same host: first transport that can connect"
                       : "other host: first transport that can connect");
        *out = t;
        return BRAID_SUCCESS;
    }
    if (forced)
        return braid__err(BRAID_ERR_INVALID_ARGUMENT,
                          "BRAID_TRANSPORT=%s is not a transport "
                          "of this build; choose one of: %s",
                          forced, names);
    return braid__err(BRAID_ERR_NOT_SUPPORTED,
                      "no transport can reach rank %d on host %s from host %s (this build has: "
                      "%s; shm needs both ranks on one host)",
                      peer->rank, peer->hostname, self->hostname, names);
}
