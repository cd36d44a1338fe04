/*
 * A rank killed in the middle of a collective: the others return an error within the
 * configured timeout (no hang), and no shared-memory segment of the job is left behind.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "braid.h"
#include "harness.h"

enum { NRANKS = 4, VICTIM = 2, TIMEOUT_MS = 10000 };

static int rank_main(braid_unique_id_t id, int rank, void *unused)
{
    braid_config_t cfg = BRAID_CONFIG_INIT;
    cfg.timeout_ms = TIMEOUT_MS;
    braid_comm_t comm;
    if (braid_comm_init_rank_config(&comm, NRANKS, id, rank, &cfg) != BRAID_SUCCESS)
        return 10;
    size_t count = 16u << 20;
    float *buf = calloc(count, sizeof(float));
    /* Loop until the collective fails: the victim is killed in the middle of one. */
    for (int it = 0; it < 100000; it++) {
        braid_result_t r = braid_all_reduce(buf, buf, count, BRAID_FLOAT32, BRAID_SUM, comm, NULL);
        if (r != BRAID_SUCCESS) {
            fprintf(stderr, "rank %d: iteration %d failed as expected: %s\n", rank, it,
                    braid_last_error(comm));
            braid_comm_abort(comm);
            free(buf);
            return r == BRAID_ERR_REMOTE || r == BRAID_ERR_TIMEOUT ? 0 : 11;
        }
    }
    return 12; /* never noticed the death */
}

static int segments_of(const pid_t *pids, int n)
{
    DIR *d = opendir("/dev/shm");
    int found = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        for (int r = 0; r < n; r++) {
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "braid-%d-", (int)pids[r]);
            if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) {
                fprintf(stderr, "left behind: /dev/shm/%s\n", e->d_name);
                found++;
            }
        }
    if (d)
        closedir(d);
    return found;
}

int main(void)
{
    pid_t pids[NRANKS];
    if (harness_fork_ranks(NRANKS, rank_main, NULL, pids) != 0)
        return 1;
    usleep(1500000); /* init, connect, and a few iterations */
    kill(pids[VICTIM], SIGKILL);
    time_t start = time(NULL);
    int bad = 0;
    for (int r = 0; r < NRANKS; r++) {
        int status;
        for (;;) {
            pid_t w = waitpid(pids[r], &status, WNOHANG);
            if (w == pids[r])
                break;
            if (time(NULL) - start > TIMEOUT_MS / 1000 + 20) {
                fprintf(stderr, "FAIL: rank %d still running %d s after the kill (hang)\n", r,
                        (int)(time(NULL) - start));
                kill(pids[r], SIGKILL);
                waitpid(pids[r], &status, 0);
                bad++;
                break;
            }
            usleep(10000);
        }
        if (r == VICTIM)
            continue;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "FAIL: rank %d ended with status %d\n", r,
                    WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
            bad++;
        }
    }
    printf("survivors noticed within %d s\n", (int)(time(NULL) - start));
    bad += segments_of(pids, NRANKS);
    printf("%s\n", bad ? "1 passed, 1 failed" : "1 passed, 0 failed");
    return bad ? 1 : 0;
}
