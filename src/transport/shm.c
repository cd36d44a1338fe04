/*
 * Shared-memory transport: ranks on one host. The receiver creates each FIFO in a POSIX
 * shared-memory segment (mode 0600, random name), the sender maps it, and the receiver unlinks
 * the name once both have it mapped, so nothing is left in /dev/shm even if a rank is killed
 * later. Works between processes and between threads of one process alike.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "base/check.h"
#include "base/log.h"
#include "base/random.h"
#include "transport/transport.h"

#define SHM_NAME_MAX 48

struct shm_blob {
    char name[SHM_NAME_MAX];
    uint64_t bytes;
};

struct shm_state {
    char name[SHM_NAME_MAX];
    void *base;
    size_t bytes;
    int unlinked;
};

static int shm_can_connect(const struct braid_peer_info *self, const struct braid_peer_info *peer)
{
    return self->host_hash == peer->host_hash;
}

static braid_result_t check_space(size_t bytes, int peer)
{
    struct statvfs vfs;
    if (statvfs("/dev/shm", &vfs) != 0)
        return BRAID_SUCCESS; /* No /dev/shm to ask: fallocate below still catches a shortage. */
    unsigned long long avail = (unsigned long long)vfs.f_bavail * vfs.f_frsize;
    if (avail < bytes)
        return braid__err(BRAID_ERR_SYSTEM,
                          "shm: a connector to rank %d needs %zu bytes in /dev/shm but only %llu "
                          "are free; in a container raise it (docker run --shm-size=1g) or "
                          "share the host's (--ipc=host), or lower BRAID_NSLOTS/BRAID_SLOT_SIZE",
                          peer, bytes, avail);
    return BRAID_SUCCESS;
}

static braid_result_t shm_create(struct shm_state *st, size_t bytes, int peer)
{
    uint8_t rnd[8];
    BRAID_CHECK(braid__random_bytes(rnd, sizeof(rnd)));
    snprintf(st->name, sizeof(st->name), "/braid-%d-%02x%02x%02x%02x%02x%02x%02x%02x",
             (int)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    BRAID_CHECK(check_space(bytes, peer));
    int fd = shm_open(st->name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0)
        return braid__err(BRAID_ERR_SYSTEM, "shm_open(%s) failed: %s", st->name, strerror(errno));
    /* fallocate makes tmpfs commit the pages now: a shortage fails here with ENOSPC instead
     * of a SIGBUS in the middle of a collective. */
    int rc = posix_fallocate(fd, 0, (off_t)bytes);
    if (rc != 0) {
        close(fd);
        shm_unlink(st->name);
        return braid__err(BRAID_ERR_SYSTEM,
                          "shm: reserving %zu bytes for %s failed: %s; in a "
                          "container raise --shm-size or use --ipc=host",
                          bytes, st->name, strerror(rc));
    }
    st->base = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (st->base == MAP_FAILED) {
        st->base = NULL;
        shm_unlink(st->name);
        return braid__err(BRAID_ERR_SYSTEM, "mmap of %s (%zu bytes) failed: %s", st->name, bytes,
                          strerror(errno));
    }
    st->bytes = bytes;
    return BRAID_SUCCESS;
}

static braid_result_t shm_setup(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                void *blob, size_t *bloblen)
{
    struct shm_state *st = calloc(1, sizeof(*st));
    if (!st)
        return braid__err(BRAID_ERR_NO_MEMORY, "shm: out of memory");
    st->unlinked = 1;
    conn->priv = st;
    *bloblen = 0;
    if (conn->dir == BRAID_CONN_SEND)
        return BRAID_SUCCESS;
    size_t bytes = braid__fifo_bytes(conn->nslots, conn->slot_bytes);
    BRAID_CHECK(shm_create(st, bytes, conn->peer));
    st->unlinked = 0;
    struct braid_fifo_ctrl *ctrl = st->base;
    atomic_store(&ctrl->head, 0);
    atomic_store(&ctrl->tail, 0);
    struct shm_blob b = {.bytes = bytes};
    memcpy(b.name, st->name, sizeof(b.name));
    memcpy(blob, &b, sizeof(b));
    *bloblen = sizeof(b);
    return BRAID_SUCCESS;
}

static braid_result_t shm_connect(struct braid_transport_ctx *ctx, struct braid_conn *conn,
                                  const void *blob, size_t bloblen)
{
    struct shm_state *st = conn->priv;
    if (conn->dir == BRAID_CONN_SEND) {
        struct shm_blob b;
        if (bloblen != sizeof(b))
            return braid__err(BRAID_ERR_REMOTE,
                              "shm: rank %d sent a %zu-byte connect blob, "
                              "expected %zu",
                              conn->peer, bloblen, sizeof(b));
        memcpy(&b, blob, sizeof(b));
        b.name[SHM_NAME_MAX - 1] = '\0';
        size_t expect = braid__fifo_bytes(conn->nslots, conn->slot_bytes);
        if (b.bytes != expect)
            return braid__err(BRAID_ERR_REMOTE,
                              "shm: rank %d made a %llu-byte FIFO, this rank "
                              "expects %zu: BRAID_NSLOTS/BRAID_SLOT_SIZE differ between ranks",
                              conn->peer, (unsigned long long)b.bytes, expect);
        int fd = shm_open(b.name, O_RDWR | O_CLOEXEC, 0);
        if (fd < 0)
            return braid__err(BRAID_ERR_SYSTEM, "shm: cannot open rank %d's segment %s: %s",
                              conn->peer, b.name, strerror(errno));
        st->base = mmap(NULL, expect, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        close(fd);
        if (st->base == MAP_FAILED) {
            st->base = NULL;
            return braid__err(BRAID_ERR_SYSTEM, "shm: mmap of %s failed: %s", b.name,
                              strerror(errno));
        }
        st->bytes = expect;
    }
    conn->fifo = st->base;
    conn->slots = braid__fifo_slots(conn->fifo);
    return BRAID_SUCCESS;
}

static braid_result_t shm_ready(struct braid_transport_ctx *ctx, struct braid_conn *conn)
{
    struct shm_state *st = conn->priv;
    if (!st->unlinked) {
        shm_unlink(st->name);
        st->unlinked = 1;
    }
    return BRAID_SUCCESS;
}

static void shm_close(struct braid_conn *conn)
{
    struct shm_state *st = conn->priv;
    if (!st)
        return;
    if (!st->unlinked)
        shm_unlink(st->name);
    if (st->base)
        munmap(st->base, st->bytes);
    free(st);
    conn->priv = NULL;
    conn->fifo = NULL;
}

const struct braid_transport braid__shm_transport = {
    .version = BRAID_TRANSPORT_VERSION,
    .name = "shm",
    .mem_kinds = 0, /* the executor copies into and out of the slots; shm never reads buffers */
    .can_connect = shm_can_connect,
    .setup = shm_setup,
    .connect = shm_connect,
    .ready = shm_ready,
    .close = shm_close,
};
