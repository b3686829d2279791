/*
 * MQTT fan-out benchmark, plain C peer of benchmarks/mqtt-fanout/swift/main.swift.
 *
 * One process holds N subscriber clients and one publisher, all driven by one epoll loop over
 * libmosquitto's external-loop functions (mosquitto_loop_read / _write / _misc). libmosquitto's
 * own loops (mosquitto_loop, _loop_forever, _loop_start) use select(), which fails for file
 * descriptors >= 1024, and every client holds three descriptors.
 *
 * Scenario (identical in the Swift program): MQTT 5, QoS 1, every subscriber on one topic. Once
 * all are connected and subscribed, the publisher sends CHUNKS messages of CHUNK_BYTES each, the
 * chunk index in the first 4 bytes (big-endian). The clock runs from the first publish until the
 * last subscriber holds every index exactly once and the full byte count. Memory per client is
 * VmRSS after all N subscribers are connected and subscribed and one idle second has passed
 * (the Swift side gives back transient connect-phase memory in that second), minus VmRSS before
 * creating them (the publisher is already connected then, so library code paths are warm),
 * divided by N; the figure right at the last SUBACK is printed too.
 *
 * Output: one JSON line on stdout; errors go to stderr with exit status 1.
 *
 *   fanout --port P --subscribers N [--host H] [--chunks 16] [--chunk-bytes 262144]
 *          [--timeout-s 300] [--topic bench/chunk]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#define MAX_CHUNKS 64 /* a subscriber's received indices live in one uint64_t bit mask */

struct client {
    struct mosquitto *mosq;
    int index;            /* 0..N-1 for subscribers, -1 for the publisher */
    int fd;               /* socket registered in epoll, -1 when none */
    uint32_t events;      /* epoll interest currently registered for fd */
    bool connected;       /* CONNACK accepted */
    bool subscribed;      /* SUBACK granted QoS 1 */
    uint64_t seen;        /* bit i set: chunk i received */
    size_t bytes;         /* payload bytes received */
    bool complete;
};

struct options {
    const char *host;
    int port;
    int subscribers;
    int chunks;
    int chunk_bytes;
    int timeout_s;
    const char *topic;
};

static struct options opt = {"127.0.0.1", 0, 0, 16, 256 * 1024, 300, "bench/chunk"};
static int epfd = -1;
static int connected_count, subscribed_count, completed_count, acked_count;
static double last_complete_s; /* monotonic time when the last subscriber completed */
static double last_ack_s;      /* monotonic time of the publisher's last PUBACK */
static bool failed;            /* set by callbacks: the loop stops and main exits 1 */
static bool closing;           /* our own DISCONNECTs at the end are not failures */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records a failure seen inside a callback (they cannot return errors to us). */
static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fanout.c: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    failed = true;
}

static const char *client_name(const struct client *c, char *buf, size_t len) {
    if (c->index < 0) snprintf(buf, len, "publisher");
    else snprintf(buf, len, "subscriber %d", c->index);
    return buf;
}

/* VmRSS of this process in KiB, from /proc/self/status; -1 if it cannot be read. */
static long rss_kib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kib = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kib;
}

/* CPU time (user + system) in ms and minor page faults of this process so far. */
static void usage_now(double *cpu_ms, long *minor_faults) {
    struct rusage u;
    if (getrusage(RUSAGE_SELF, &u) != 0) {
        *cpu_ms = 0, *minor_faults = 0;
        return;
    }
    *cpu_ms = (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000 +
              (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000;
    *minor_faults = u.ru_minflt;
}

/* Keeps the client's epoll interest in step with libmosquitto: always readable, writable only
 * while it has output queued, so an idle client causes no wake-ups. */
static int update_interest(struct client *c) {
    int fd = mosquitto_socket(c->mosq);
    if (fd < 0) {
        char name[32];
        fail("%s lost its socket", client_name(c, name, sizeof name));
        return -1;
    }
    uint32_t events = EPOLLIN | EPOLLRDHUP | (mosquitto_want_write(c->mosq) ? EPOLLOUT : 0);
    if (fd == c->fd && events == c->events) return 0;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    int op = c->fd == fd ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(epfd, op, fd, &ev) != 0) {
        fail("epoll_ctl(fd %d): %s", fd, strerror(errno));
        return -1;
    }
    c->fd = fd;
    c->events = events;
    return 0;
}

/* ---- libmosquitto callbacks (called from inside mosquitto_loop_* on this thread) ---- */

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props) {
    (void)flags;
    (void)props;
    struct client *c = obj;
    char name[32];
    if (rc != 0) {
        fail("%s: broker refused the connection: %s", client_name(c, name, sizeof name), mosquitto_reason_string(rc));
        return;
    }
    c->connected = true;
    connected_count++;
    if (c->index >= 0) {
        int src = mosquitto_subscribe_v5(mosq, NULL, opt.topic, 1, 0, NULL);
        if (src != MOSQ_ERR_SUCCESS)
            fail("%s: subscribe to '%s' failed: %s", client_name(c, name, sizeof name), opt.topic, mosquitto_strerror(src));
    }
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
                         const mosquitto_property *props) {
    (void)mosq;
    (void)mid;
    (void)props;
    struct client *c = obj;
    char name[32];
    if (count != 1 || granted[0] != 1) {
        fail("%s: broker granted %d (wanted QoS 1) on '%s'", client_name(c, name, sizeof name),
             count > 0 ? granted[0] : -1, opt.topic);
        return;
    }
    c->subscribed = true;
    subscribed_count++;
}

static void on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *m,
                       const mosquitto_property *props) {
    (void)mosq;
    (void)props;
    struct client *c = obj;
    char name[32];
    if (strcmp(m->topic, opt.topic) != 0 || m->payloadlen != opt.chunk_bytes || m->qos != 1) {
        fail("%s: unexpected message on '%s' (%d bytes, QoS %d); wanted %d bytes at QoS 1 on '%s'",
             client_name(c, name, sizeof name), m->topic, m->payloadlen, m->qos, opt.chunk_bytes, opt.topic);
        return;
    }
    const uint8_t *p = m->payload;
    uint32_t idx = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
    if (idx >= (uint32_t)opt.chunks || (c->seen & (1ULL << idx))) {
        fail("%s: chunk index %u is out of range or a duplicate", client_name(c, name, sizeof name), idx);
        return;
    }
    c->seen |= 1ULL << idx;
    c->bytes += (size_t)m->payloadlen;
    uint64_t all = opt.chunks == 64 ? ~0ULL : (1ULL << opt.chunks) - 1;
    if (c->seen == all && c->bytes == (size_t)opt.chunks * (size_t)opt.chunk_bytes) {
        c->complete = true;
        completed_count++;
        last_complete_s = now_s();
    }
}

static void on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props) {
    (void)mosq;
    (void)obj;
    (void)props;
    if (reason >= 0x80) {
        fail("publisher: broker refused message %d: %s", mid, mosquitto_reason_string(reason));
        return;
    }
    acked_count++;
    last_ack_s = now_s();
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props) {
    (void)mosq;
    (void)props;
    if (closing) return;
    char name[32];
    fail("%s: connection lost (%s)", client_name(obj, name, sizeof name), mosquitto_strerror(rc));
}

/* ---- the event loop ---- */

/* Serves I/O for every client until done() holds (returns 0), a callback failed (-1), or the
 * deadline passes (1). */
static int run_until(bool (*done)(void), struct client *clients, int count, double deadline) {
    struct epoll_event events[256];
    double next_misc = now_s() + 0.5;
    while (!done()) {
        if (failed) return -1;
        if (now_s() > deadline) return 1;
        int n = epoll_wait(epfd, events, 256, 100);
        if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "fanout.c: epoll_wait: %s\n", strerror(errno));
            return -1;
        }
        for (int i = 0; i < n && !failed; i++) {
            struct client *c = events[i].data.ptr;
            char name[32];
            if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
                int rc = mosquitto_loop_read(c->mosq, 1);
                if (rc != MOSQ_ERR_SUCCESS) {
                    fail("%s: read failed: %s", client_name(c, name, sizeof name), mosquitto_strerror(rc));
                    break;
                }
            }
            if ((events[i].events & EPOLLOUT) || mosquitto_want_write(c->mosq)) {
                int rc = mosquitto_loop_write(c->mosq, 1);
                if (rc != MOSQ_ERR_SUCCESS) {
                    fail("%s: write failed: %s", client_name(c, name, sizeof name), mosquitto_strerror(rc));
                    break;
                }
            }
            if (update_interest(c) != 0) break;
        }
        /* Keepalive pings, as libmosquitto's own loop would do. */
        if (now_s() >= next_misc) {
            for (int i = 0; i < count && !failed; i++) {
                int rc = mosquitto_loop_misc(clients[i].mosq);
                if (rc != MOSQ_ERR_SUCCESS) {
                    char name[32];
                    fail("%s: loop_misc failed: %s", client_name(&clients[i], name, sizeof name), mosquitto_strerror(rc));
                } else if (update_interest(&clients[i]) != 0) {
                    break;
                }
            }
            next_misc = now_s() + 0.5;
        }
    }
    return failed ? -1 : 0;
}

/* run_until with the run's deadline; says what it waited for if that passes. */
static int wait_for(bool (*done)(void), struct client *clients, int count, double deadline, const char *what) {
    int rc = run_until(done, clients, count, deadline);
    if (rc == 1)
        fprintf(stderr, "fanout.c: timed out after %d s waiting for %s (connected %d, subscribed %d, "
                        "complete %d of %d, acked %d of %d); raise --timeout-s or check the broker\n",
                opt.timeout_s, what, connected_count, subscribed_count, completed_count, opt.subscribers,
                acked_count, opt.chunks);
    return rc;
}

static bool publisher_connected(void) { return connected_count == 1; }
static bool all_subscribed(void) { return connected_count == opt.subscribers + 1 && subscribed_count == opt.subscribers; }
static bool all_complete(void) { return completed_count == opt.subscribers && acked_count == opt.chunks; }
static bool never(void) { return false; }

/* Creates a client and starts its connection (TCP connect and CONNECT; CONNACK comes later). */
static int start_client(struct client *c, int index) {
    char id[64], name[32];
    c->index = index;
    c->fd = -1;
    if (index < 0) snprintf(id, sizeof id, "fanout-c-pub-%d", (int)getpid());
    else snprintf(id, sizeof id, "fanout-c-%d-%d", (int)getpid(), index);
    c->mosq = mosquitto_new(id, true, c);
    if (!c->mosq) {
        fprintf(stderr, "fanout.c: mosquitto_new(%s): %s\n", id, strerror(errno));
        return -1;
    }
    int rc = mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
    /* Same in-flight window as the Swift client's default (maxInflightMessages 100). */
    if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_max_inflight_messages_set(c->mosq, 100);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "fanout.c: %s: setting options failed: %s\n", client_name(c, name, sizeof name), mosquitto_strerror(rc));
        return -1;
    }
    mosquitto_connect_v5_callback_set(c->mosq, on_connect);
    mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
    mosquitto_message_v5_callback_set(c->mosq, on_message);
    mosquitto_publish_v5_callback_set(c->mosq, on_publish);
    mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
    /* Blocking TCP connect on loopback; the CONNECT packet goes out on the socket at once. */
    rc = mosquitto_connect_bind_v5(c->mosq, opt.host, opt.port, 60, NULL, NULL);
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "fanout.c: %s: connect to %s:%d failed: %s; is the broker running?\n",
                client_name(c, name, sizeof name), opt.host, opt.port,
                rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
        return -1;
    }
    return update_interest(c);
}

static int parse_int(const char *flag, const char *value, int min, int max) {
    char *end = NULL;
    long v = value ? strtol(value, &end, 10) : 0;
    if (!value || *end != '\0' || v < min || v > max) {
        fprintf(stderr, "fanout.c: %s needs an integer in %d...%d, got '%s'\n", flag, min, max, value ? value : "");
        exit(2);
    }
    return (int)v;
}

static void parse_options(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--host") == 0 && v) opt.host = v, i++;
        else if (strcmp(a, "--port") == 0) opt.port = parse_int(a, v, 1, 65535), i++;
        else if (strcmp(a, "--subscribers") == 0) opt.subscribers = parse_int(a, v, 1, 100000), i++;
        else if (strcmp(a, "--chunks") == 0) opt.chunks = parse_int(a, v, 1, MAX_CHUNKS), i++;
        else if (strcmp(a, "--chunk-bytes") == 0) opt.chunk_bytes = parse_int(a, v, 4, 64 << 20), i++;
        else if (strcmp(a, "--timeout-s") == 0) opt.timeout_s = parse_int(a, v, 1, 86400), i++;
        else if (strcmp(a, "--topic") == 0 && v) opt.topic = v, i++;
        else {
            fprintf(stderr, "usage: fanout --port P --subscribers N [--host H] [--chunks 16] [--chunk-bytes 262144] "
                            "[--timeout-s 300] [--topic bench/chunk]\n(unknown or incomplete argument '%s')\n", a);
            exit(2);
        }
    }
    if (opt.port == 0 || opt.subscribers == 0) {
        fprintf(stderr, "fanout.c: --port and --subscribers are required\n");
        exit(2);
    }
}

int main(int argc, char **argv) {
    parse_options(argc, argv);

    /* Three descriptors per client: raise the soft open-file limit to the hard one, as
     * MQTTEventLoop does for the Swift program. */
    struct rlimit lim;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) fprintf(stderr, "fanout.c: setrlimit: %s\n", strerror(errno));
    }
    if ((rlim_t)opt.subscribers * 3 + 16 > lim.rlim_cur) {
        fprintf(stderr, "fanout.c: %d clients need about %d descriptors but the limit is %lu; raise ulimit -n\n",
                opt.subscribers + 1, opt.subscribers * 3 + 16, (unsigned long)lim.rlim_cur);
        return 1;
    }
    int rc = mosquitto_lib_init();
    if (rc != MOSQ_ERR_SUCCESS) {
        fprintf(stderr, "fanout.c: mosquitto_lib_init: %s\n", mosquitto_strerror(rc));
        return 1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) {
        fprintf(stderr, "fanout.c: epoll_create1: %s\n", strerror(errno));
        return 1;
    }

    /* Payloads are built before the clock starts; the index goes in the first 4 bytes. */
    uint8_t **payloads = calloc((size_t)opt.chunks, sizeof *payloads);
    if (!payloads) return 1;
    for (int i = 0; i < opt.chunks; i++) {
        payloads[i] = malloc((size_t)opt.chunk_bytes);
        if (!payloads[i]) {
            fprintf(stderr, "fanout.c: out of memory for payload %d\n", i);
            return 1;
        }
        for (int b = 4; b < opt.chunk_bytes; b++) payloads[i][b] = (uint8_t)(b * 31 + i);
        payloads[i][0] = (uint8_t)(i >> 24), payloads[i][1] = (uint8_t)(i >> 16);
        payloads[i][2] = (uint8_t)(i >> 8), payloads[i][3] = (uint8_t)i;
    }

    /* clients[0] is the publisher; clients[1...N] the subscribers. Allocated up front (and
     * touched by calloc lazily), so the array itself counts in the per-client memory. */
    double deadline = now_s() + opt.timeout_s;
    struct client *clients = calloc((size_t)opt.subscribers + 1, sizeof *clients);
    if (!clients) return 1;
    if (start_client(&clients[0], -1) != 0) return 1;
    if (wait_for(publisher_connected, clients, 1, deadline, "the publisher's CONNACK") != 0) return 1;

    long rss_before = rss_kib();
    double t_connect = now_s();
    for (int i = 1; i <= opt.subscribers; i++) {
        if (start_client(&clients[i], i - 1) != 0) return 1;
    }
    if (wait_for(all_subscribed, clients, opt.subscribers + 1, deadline, "every CONNACK and SUBACK") != 0) return 1;
    double connect_ms = (now_s() - t_connect) * 1000;
    long rss_subscribed = rss_kib();
    /* One idle second with the loop running (keepalive served), as on the Swift side. */
    if (run_until(never, clients, opt.subscribers + 1, now_s() + 1.0) != 1) return 1;
    long rss_after = rss_kib();

    struct client *pub = &clients[0];
    double cpu_start, cpu_end;
    long faults_start, faults_end;
    usage_now(&cpu_start, &faults_start);
    double start = now_s();
    for (int i = 0; i < opt.chunks; i++) {
        rc = mosquitto_publish_v5(pub->mosq, NULL, opt.topic, opt.chunk_bytes, payloads[i], 1, false, NULL);
        if (rc != MOSQ_ERR_SUCCESS) {
            fprintf(stderr, "fanout.c: publish of chunk %d failed: %s\n", i, mosquitto_strerror(rc));
            return 1;
        }
    }
    if (update_interest(pub) != 0) return 1;
    if (wait_for(all_complete, clients, opt.subscribers + 1, deadline, "every chunk at every subscriber") != 0) return 1;

    usage_now(&cpu_end, &faults_end);
    double total_bytes = (double)opt.subscribers * opt.chunks * opt.chunk_bytes;
    double time_ms = (last_complete_s - start) * 1000;
    printf("{\"impl\":\"c\",\"subscribers\":%d,\"chunks\":%d,\"chunk_bytes\":%d,\"time_ms\":%.3f,"
           "\"publish_acked_ms\":%.3f,\"mib_per_s\":%.2f,\"connect_ms\":%.1f,\"rss_before_kib\":%ld,"
           "\"rss_subscribed_kib\":%ld,\"rss_after_kib\":%ld,\"kib_per_client\":%.2f,"
           "\"kib_per_client_at_subscribe\":%.2f,\"cpu_ms\":%.0f,\"minor_faults\":%ld,\"loop_cpu_ms\":%.0f}\n",
           opt.subscribers, opt.chunks, opt.chunk_bytes, time_ms, (last_ack_s - start) * 1000,
           total_bytes / 1048576.0 / (time_ms / 1000), connect_ms, rss_before, rss_subscribed, rss_after,
           (double)(rss_after - rss_before) / opt.subscribers, (double)(rss_subscribed - rss_before) / opt.subscribers,
           cpu_end - cpu_start, faults_end - faults_start, cpu_end - cpu_start);
    fflush(stdout);

    closing = true;
    for (int i = 0; i <= opt.subscribers; i++) {
        mosquitto_disconnect_v5(clients[i].mosq, 0, NULL);
        mosquitto_destroy(clients[i].mosq);
    }
    for (int i = 0; i < opt.chunks; i++) free(payloads[i]);
    free(payloads);
    free(clients);
    mosquitto_lib_cleanup();
    return 0;
}
