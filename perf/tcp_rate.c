/*
 * Raw TCP throughput between two hosts (or network namespaces), the yardstick for the socket
 * transport's busbw (perf/socket_vs_tcp.sh). An iperf3 stand-in with no dependencies.
 *
 *   tcp_rate -s PORT [-n CONNS]              receive: serve CONNS connections, then exit
 *   tcp_rate -c HOST:PORT [-P STREAMS] [-t SECONDS] [-l BYTES]
 *                                            send for SECONDS over STREAMS parallel
 *                                            connections, BYTES per send() (default 1 MiB)
 *
 * The sender prints "bytes_per_sec <rate>": total bytes over the time from the first send until
 * the receiver confirmed, per connection, the byte count it read, so nothing still sitting in
 * socket buffers counts. Both ends use TCP_NODELAY and the kernel's buffer autotuning, as
 * braid does.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"

#define MAX_STREAMS 64

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static void *serve_one(void *arg)
{
    int fd = (int)(intptr_t)arg;
    size_t cap = 1 << 20;
    char *buf = malloc(cap);
    uint64_t total = 0;
    ssize_t n;
    while (buf && (n = recv(fd, buf, cap, 0)) > 0)
        total += (uint64_t)n;
    if (send(fd, &total, sizeof(total), MSG_NOSIGNAL) != (ssize_t)sizeof(total))
        perror("tcp_rate: sending the byte count");
    free(buf);
    close(fd);
    return NULL;
}

static int run_server(int port, int conns)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 128) != 0) {
        perror("tcp_rate: listen");
        return 1;
    }
    pthread_t th[MAX_STREAMS * 16];
    int n = 0;
    for (; n < conns && n < MAX_STREAMS * 16; n++) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) {
            perror("tcp_rate: accept");
            break;
        }
        nodelay(fd);
        pthread_create(&th[n], NULL, serve_one, (void *)(intptr_t)fd);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    close(lfd);
    return 0;
}

struct sender {
    struct sockaddr_in addr;
    double seconds;
    size_t len;
    uint64_t sent;
    int ok;
};

static void *send_one(void *arg)
{
    struct sender *s = arg;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(fd, (struct sockaddr *)&s->addr, sizeof(s->addr)) != 0) {
        perror("tcp_rate: connect");
        close(fd);
        return NULL;
    }
    nodelay(fd);
    char *buf = calloc(1, s->len);
    double end = bench_now() + s->seconds;
    while (buf && bench_now() < end) {
        ssize_t n = send(fd, buf, s->len, MSG_NOSIGNAL);
        if (n <= 0)
            break;
        s->sent += (uint64_t)n;
    }
    shutdown(fd, SHUT_WR);
    uint64_t got = 0;
    s->ok = recv(fd, &got, sizeof(got), MSG_WAITALL) == (ssize_t)sizeof(got) && got == s->sent;
    free(buf);
    close(fd);
    return NULL;
}

static int run_client(const char *target, int streams, double seconds, size_t len)
{
    char host[256];
    const char *colon = strrchr(target, ':');
    if (!colon || streams < 1 || streams > MAX_STREAMS) {
        fprintf(stderr, "tcp_rate: -c HOST:PORT with -P 1..%d\n", MAX_STREAMS);
        return 2;
    }
    snprintf(host, sizeof(host), "%.*s", (int)(colon - target), target);
    struct sender s[MAX_STREAMS];
    memset(s, 0, sizeof(s));
    s[0].addr.sin_family = AF_INET;
    s[0].addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &s[0].addr.sin_addr) != 1) {
        fprintf(stderr, "tcp_rate: '%s' is not an IPv4 address\n", host);
        return 2;
    }
    pthread_t th[MAX_STREAMS];
    double t0 = bench_now();
    for (int i = 0; i < streams; i++) {
        s[i].addr = s[0].addr;
        s[i].seconds = seconds;
        s[i].len = len;
        pthread_create(&th[i], NULL, send_one, &s[i]);
    }
    uint64_t total = 0;
    int ok = 1;
    for (int i = 0; i < streams; i++) {
        pthread_join(th[i], NULL);
        total += s[i].sent;
        ok &= s[i].ok;
    }
    double t = bench_now() - t0;
    if (!ok) {
        fprintf(stderr, "tcp_rate: the receiver did not confirm every byte\n");
        return 1;
    }
    printf("streams %d seconds %.3f bytes %llu\nbytes_per_sec %.0f\n", streams, t,
           (unsigned long long)total, (double)total / t);
    return 0;
}

int main(int argc, char **argv)
{
    int port = 0, conns = 1, streams = 1;
    double seconds = 3;
    size_t len = 1 << 20;
    const char *target = NULL;
    int opt;
    while ((opt = getopt(argc, argv, "s:n:c:P:t:l:")) != -1) {
        switch (opt) {
        case 's':
            port = atoi(optarg);
            break;
        case 'n':
            conns = atoi(optarg);
            break;
        case 'c':
            target = optarg;
            break;
        case 'P':
            streams = atoi(optarg);
            break;
        case 't':
            seconds = atof(optarg);
            break;
        case 'l':
            len = (size_t)atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: tcp_rate -s PORT [-n CONNS] | -c HOST:PORT [-P N] [-t S] "
                            "[-l BYTES]\n");
            return 2;
        }
    }
    if (port > 0)
        return run_server(port, conns);
    if (target && len > 0)
        return run_client(target, streams, seconds, len);
    fprintf(stderr, "tcp_rate: give -s PORT or -c HOST:PORT\n");
    return 2;
}
