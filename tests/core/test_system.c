/*
 * The system graph: each host's topology travels through the bootstrap and every rank merges
 * the same system. Three processes pose as two hosts (BRAID_HOSTID), each host loading the
 * DGX H100 reference file, so the merged system has 16 GPUs on 2 hosts; rank 0 dumps it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "braid.h"
#include "core/comm.h"
#include "harness.h"
#include "topology/topo.h"

enum { NRANKS = 3 };

static int rank_main(braid_unique_id_t id, int rank, void *unused)
{
    setenv("BRAID_HOSTID", rank < 2 ? "test-host-a" : "test-host-b", 1);
    braid_comm_t comm;
    braid_result_t r = braid_comm_init_rank(&comm, NRANKS, id, rank);
    if (r != BRAID_SUCCESS) {
        fprintf(stderr, "rank %d: init: %s\n", rank, braid_last_error(NULL));
        return 1;
    }
    int gpus = braid__topo_ngpus(comm->topo), hosts = comm->topo->nhosts;
    int ok = gpus == 16 && hosts == 2;
    if (!ok)
        fprintf(stderr, "rank %d: merged system has %d GPUs on %d hosts, expected 16 on 2\n", rank,
                gpus, hosts);
    braid_comm_destroy(comm);
    return ok ? 0 : 1;
}

int main(void)
{
    char file[1024], dump[] = "/tmp/braid-system-XXXXXX";
    snprintf(file, sizeof(file), "%s/dgx-h100.xml", BRAID_TOPO_DIR);
    int fd = mkstemp(dump);
    close(fd);
    setenv("BRAID_TOPO_FILE", file, 1);
    setenv("BRAID_TOPO_DUMP_FILE", dump, 1);
    pid_t pids[NRANKS];
    if (harness_fork_ranks(NRANKS, rank_main, NULL, pids) != 0)
        return 1;
    int failed = 0;
    for (int r = 0; r < NRANKS; r++) {
        int status;
        waitpid(pids[r], &status, 0);
        failed += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    struct braid_topo *t = NULL;
    if (braid__topo_load_file(dump, &t) != BRAID_SUCCESS || braid__topo_ngpus(t) != 16) {
        fprintf(stderr, "dump %s: expected 16 GPUs: %s\n", dump, braid_last_error(NULL));
        failed++;
    }
    braid__topo_free(t);
    unlink(dump);
    printf("%d passed, %d failed\n", failed ? 0 : 1, failed ? 1 : 0);
    return failed ? 1 : 0;
}
