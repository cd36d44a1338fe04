/*
 * What the driver loaders' tests share: calling a loader from many threads at once, and
 * reading back the log lines the test process wrote. Each Check test runs in a forked child
 * (Check's default), so each starts with the loaders not yet loaded and logging not yet set up.
 */
#ifndef BRAID_TESTS_DRV_TEST_H
#define BRAID_TESTS_DRV_TEST_H

#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRV_TEST_THREADS 8

struct drv_test_race {
    const void *(*get)(void);
    pthread_barrier_t start;
    const void *got[DRV_TEST_THREADS];
};

struct drv_test_slot {
    struct drv_test_race *race;
    int index;
};

static void *drv_test_racer(void *arg)
{
    struct drv_test_slot *slot = arg;
    pthread_barrier_wait(&slot->race->start);
    slot->race->got[slot->index] = slot->race->get();
    return NULL;
}

/* Calls get from DRV_TEST_THREADS threads released together, so that the first calls overlap;
 * got[i] receives thread i's result. */
static inline void drv_test_race(const void *(*get)(void), const void *got[DRV_TEST_THREADS])
{
    struct drv_test_race race = {.get = get};
    struct drv_test_slot slots[DRV_TEST_THREADS];
    pthread_t threads[DRV_TEST_THREADS];
    ck_assert_int_eq(pthread_barrier_init(&race.start, NULL, DRV_TEST_THREADS), 0);
    for (int i = 0; i < DRV_TEST_THREADS; i++) {
        slots[i] = (struct drv_test_slot){&race, i};
        ck_assert_int_eq(pthread_create(&threads[i], NULL, drv_test_racer, &slots[i]), 0);
    }
    for (int i = 0; i < DRV_TEST_THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&race.start);
    memcpy(got, race.got, sizeof(race.got));
}

/* Turns INFO logging on and sends this process's stderr to a temporary file, for the rest of
 * the (forked) test; returns the file for drv_test_log_lines. Call before the first log line. */
static inline FILE *drv_test_capture_log(void)
{
    setenv("BRAID_DEBUG", "INFO", 1);
    FILE *log = tmpfile();
    ck_assert_ptr_nonnull(log);
    fflush(stderr);
    ck_assert_int_ge(dup2(fileno(log), STDERR_FILENO), 0);
    return log;
}

/* The number of captured log lines that contain text. */
static inline int drv_test_log_lines(FILE *log, const char *text)
{
    char line[2048];
    int n = 0;
    fflush(stderr);
    rewind(log);
    while (fgets(line, sizeof(line), log))
        n += strstr(line, text) != NULL;
    return n;
}

#endif
