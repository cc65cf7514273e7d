/*
 * Phone-side load for bench/relay.ts: plays pre-built RTP (or SRTP) packets for
 * many calls, both directions, at 20 ms spacing, and measures what comes back
 * through the relay under test: loss per stream, one-way delay through the
 * relay (kernel receive timestamps against the send time) and RFC 3550-style
 * jitter of that delay. Written in C with sendmmsg/recvmmsg so that on a small
 * machine the load generator costs a fraction of what the relay does, and the
 * figure measures the relay rather than the generator.
 *
 *   rtpgen --a FILE --b FILE --seconds S [--socks N] [--drain-ms M] [--host IP]
 *
 * FILE: packets that phone A (resp. B) sends, in order, each as a 2-byte
 * big-endian length and the bytes; packet k must carry RTP sequence number
 * k mod 65536. Protocol on stdin/stdout (one line each):
 *   out: ports <a-port>... <b-port>...   (N A-side then N B-side sockets)
 *   in:  call <relay-port-for-A> <relay-port-for-B>   (call i uses socket i mod N on each side)
 *   in:  go
 *   out: one JSON object with the results, then exit.
 * IPv4 loopback only. Every loop is bounded by the run time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOCKS 64
#define MAX_CALLS 50000
#define RING 256 /* send times kept per stream: 5 s of packets */
#define BATCH 64
#define HIST_US 500000 /* delay histogram: 1 µs buckets up to 500 ms */
#define PERIOD_NS 20000000LL

struct stream {
  uint64_t sent, received, dup_or_stray;
  int64_t send_ns[RING];
  double jitter_ns;
  int64_t last_transit;
  int have_transit;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "rtpgen: %s: %s\n", what, strerror(errno));
  exit(2);
}

struct templates {
  int count;
  uint16_t *len;
  uint8_t **data;
};

static void load(const char *path, struct templates *t) {
  FILE *f = fopen(path, "rb");
  if (!f) die(path);
  int cap = 1024;
  t->count = 0;
  t->len = malloc(cap * sizeof *t->len);
  t->data = malloc(cap * sizeof *t->data);
  unsigned char hdr[2];
  while (fread(hdr, 1, 2, f) == 2) {
    uint16_t n = (uint16_t)(hdr[0] << 8 | hdr[1]);
    if (n == 0 || n > 1500) { fprintf(stderr, "rtpgen: %s: bad packet length %u\n", path, n); exit(2); }
    if (t->count == cap) {
      cap *= 2;
      t->len = realloc(t->len, cap * sizeof *t->len);
      t->data = realloc(t->data, cap * sizeof *t->data);
    }
    t->data[t->count] = malloc(n);
    if (fread(t->data[t->count], 1, n, f) != n) { fprintf(stderr, "rtpgen: %s: truncated\n", path); exit(2); }
    t->len[t->count++] = n;
  }
  fclose(f);
  if (t->count == 0) { fprintf(stderr, "rtpgen: %s: no packets\n", path); exit(2); }
}

static int open_socket(const char *host) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0) die("socket");
  int size = 4 << 20, on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) < 0) die("SO_TIMESTAMPNS");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
  if (inet_pton(AF_INET, host, &a.sin_addr) != 1) { fprintf(stderr, "rtpgen: bad host %s\n", host); exit(2); }
  if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
  return fd;
}

static int port_of(int fd) {
  struct sockaddr_in a;
  socklen_t l = sizeof a;
  if (getsockname(fd, (struct sockaddr *)&a, &l) < 0) die("getsockname");
  return ntohs(a.sin_port);
}

/* Globals: one run per process. */
static int nsocks = 4, ncalls = 0;
static int fds[2 * MAX_SOCKS]; /* [0, n): A side, [n, 2n): B side */
static struct sockaddr_in *dest[2]; /* per call: relay port for A, for B */
static struct stream *streams; /* 2 per call: 2i = A→B, 2i+1 = B→A */
static uint32_t port_stream[2][65536]; /* socket side, relay source port → stream + 1 */
static uint64_t hist[HIST_US + 1];
static int64_t delay_max_ns = 0;
static uint64_t stray = 0, send_failed = 0;
static struct templates tpl[2];

struct batch {
  struct mmsghdr msg[BATCH];
  struct iovec iov[BATCH];
  /* Send-time slot of each queued packet, stamped right before the send. */
  int64_t *stamp[BATCH];
  int n;
};
static struct batch out[2 * MAX_SOCKS];

static void flush(int s) {
  struct batch *b = &out[s];
  int64_t t = now_ns();
  for (int k = 0; k < b->n; k++) *b->stamp[k] = t;
  int done = 0;
  for (int tries = 0; done < b->n && tries < 100; tries++) {
    int r = sendmmsg(fds[s], b->msg + done, b->n - done, 0);
    if (r < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      die("sendmmsg");
    }
    done += r;
  }
  send_failed += b->n - done;
  b->n = 0;
}

static void queue(int s, struct sockaddr_in *to, uint8_t *data, uint16_t len, int64_t *stamp) {
  struct batch *b = &out[s];
  int k = b->n++;
  b->stamp[k] = stamp;
  b->iov[k].iov_base = data;
  b->iov[k].iov_len = len;
  memset(&b->msg[k], 0, sizeof b->msg[k]);
  b->msg[k].msg_hdr.msg_name = to;
  b->msg[k].msg_hdr.msg_namelen = sizeof *to;
  b->msg[k].msg_hdr.msg_iov = &b->iov[k];
  b->msg[k].msg_hdr.msg_iovlen = 1;
  if (b->n == BATCH) flush(s);
}

static void send_round(int call, int64_t round) {
  for (int dir = 0; dir < 2; dir++) {
    struct templates *t = &tpl[dir];
    int k = (int)(round % t->count);
    struct stream *st = &streams[2 * call + dir];
    uint16_t seq = (uint16_t)(t->data[k][2] << 8 | t->data[k][3]);
    st->sent++;
    queue(dir * nsocks + call % nsocks, &dest[dir][call], t->data[k], t->len[k], &st->send_ns[seq % RING]);
  }
}

static uint8_t rbuf[BATCH][2048];
static char cbuf[BATCH][CMSG_SPACE(sizeof(struct timespec))];

static void receive(int s) {
  struct mmsghdr msg[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_in from[BATCH];
  int side = s < nsocks ? 0 : 1;
  for (int rounds = 0; rounds < 64; rounds++) {
    memset(msg, 0, sizeof msg);
    for (int k = 0; k < BATCH; k++) {
      iov[k].iov_base = rbuf[k];
      iov[k].iov_len = sizeof rbuf[k];
      msg[k].msg_hdr.msg_name = &from[k];
      msg[k].msg_hdr.msg_namelen = sizeof from[k];
      msg[k].msg_hdr.msg_iov = &iov[k];
      msg[k].msg_hdr.msg_iovlen = 1;
      msg[k].msg_hdr.msg_control = cbuf[k];
      msg[k].msg_hdr.msg_controllen = sizeof cbuf[k];
    }
    int r = recvmmsg(fds[s], msg, BATCH, MSG_DONTWAIT, NULL);
    if (r <= 0) return;
    int64_t fallback = now_ns();
    for (int k = 0; k < r; k++) {
      uint32_t id = port_stream[side][ntohs(from[k].sin_port)];
      if (id == 0 || msg[k].msg_len < 12) { stray++; continue; }
      struct stream *st = &streams[id - 1];
      int64_t at = fallback;
      for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg[k].msg_hdr); c; c = CMSG_NXTHDR(&msg[k].msg_hdr, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          at = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        }
      }
      uint16_t seq = (uint16_t)(rbuf[k][2] << 8 | rbuf[k][3]);
      int64_t sent = st->send_ns[seq % RING];
      if (sent == 0 || at < sent) { st->dup_or_stray++; continue; }
      st->received++;
      int64_t d = at - sent;
      if (d > delay_max_ns) delay_max_ns = d;
      int64_t us = d / 1000;
      hist[us > HIST_US ? HIST_US : us]++;
      if (st->have_transit) {
        double dd = (double)(d - st->last_transit);
        if (dd < 0) dd = -dd;
        st->jitter_ns += (dd - st->jitter_ns) / 16.0;
      }
      st->last_transit = d;
      st->have_transit = 1;
    }
    if (r < BATCH) return;
  }
}

static void receive_all(void) {
  for (int s = 0; s < 2 * nsocks; s++) receive(s);
}

static void wait_until(int64_t t) {
  int64_t left = t - now_ns();
  if (left <= 0) return;
  struct pollfd p[2 * MAX_SOCKS];
  for (int s = 0; s < 2 * nsocks; s++) p[s] = (struct pollfd){.fd = fds[s], .events = POLLIN};
  struct timespec ts = {.tv_sec = left / 1000000000LL, .tv_nsec = left % 1000000000LL};
  ppoll(p, 2 * nsocks, &ts, NULL);
}

static double percentile_us(uint64_t total, double q) {
  uint64_t want = (uint64_t)(q * (double)total);
  uint64_t acc = 0;
  for (int i = 0; i <= HIST_US; i++) {
    acc += hist[i];
    if (acc > want) return i;
  }
  return HIST_US;
}

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
  const char *host = "127.0.0.1", *fa = NULL, *fb = NULL;
  double seconds = 10;
  int drain_ms = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--a")) fa = argv[i + 1];
    else if (!strcmp(argv[i], "--b")) fb = argv[i + 1];
    else if (!strcmp(argv[i], "--seconds")) seconds = atof(argv[i + 1]);
    else if (!strcmp(argv[i], "--socks")) nsocks = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--drain-ms")) drain_ms = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--host")) host = argv[i + 1];
    else { fprintf(stderr, "rtpgen: unknown option %s\n", argv[i]); return 2; }
  }
  if (!fa || !fb || nsocks < 1 || nsocks > MAX_SOCKS || seconds <= 0 || seconds > 600 || drain_ms < 0 || drain_ms > 10000) {
    fprintf(stderr, "usage: rtpgen --a FILE --b FILE --seconds S [--socks 1..64] [--drain-ms M] [--host IP]\n");
    return 2;
  }
  load(fa, &tpl[0]);
  load(fb, &tpl[1]);
  printf("ports");
  for (int s = 0; s < 2 * nsocks; s++) {
    fds[s] = open_socket(host);
    printf(" %d", port_of(fds[s]));
  }
  printf("\n");
  fflush(stdout);

  dest[0] = calloc(MAX_CALLS, sizeof(struct sockaddr_in));
  dest[1] = calloc(MAX_CALLS, sizeof(struct sockaddr_in));
  char line[256];
  int go = 0;
  while (fgets(line, sizeof line, stdin)) {
    int pa, pb;
    if (!strncmp(line, "go", 2)) { go = 1; break; }
    if (sscanf(line, "call %d %d", &pa, &pb) != 2 || pa < 1 || pa > 65535 || pb < 1 || pb > 65535 || ncalls == MAX_CALLS) {
      fprintf(stderr, "rtpgen: bad line: %s", line);
      return 2;
    }
    for (int dir = 0; dir < 2; dir++) {
      struct sockaddr_in *d = &dest[dir][ncalls];
      d->sin_family = AF_INET;
      d->sin_port = htons(dir == 0 ? pa : pb);
      inet_pton(AF_INET, host, &d->sin_addr);
    }
    /* A→B arrives on a B socket from the relay's B port; B→A on an A socket from its A port. */
    port_stream[1][pb] = 2 * ncalls + 1;
    port_stream[0][pa] = 2 * ncalls + 2;
    ncalls++;
  }
  if (!go || ncalls == 0) { fprintf(stderr, "rtpgen: no calls or no go\n"); return 2; }
  streams = calloc(2 * (size_t)ncalls, sizeof *streams);
  if (!streams) die("calloc");

  double cpu0 = cpu_seconds();
  int64_t t0 = now_ns() + 5000000LL;
  int64_t end_send = t0 + (int64_t)(seconds * 1e9);
  int64_t slot = PERIOD_NS / ncalls;
  int64_t round = 0;
  int call = 0;
  for (;;) {
    int64_t now = now_ns();
    int64_t due = t0 + round * PERIOD_NS + call * slot;
    if (due >= end_send) break;
    while (due <= now && due < end_send) {
      send_round(call, round);
      if (++call == ncalls) { call = 0; round++; }
      due = t0 + round * PERIOD_NS + call * slot;
    }
    for (int s = 0; s < 2 * nsocks; s++) if (out[s].n > 0) flush(s);
    receive_all();
    wait_until(due);
  }
  int64_t end = now_ns() + (int64_t)drain_ms * 1000000LL;
  while (now_ns() < end) {
    receive_all();
    wait_until(end);
  }
  receive_all();
  double cpu = cpu_seconds() - cpu0;

  uint64_t sent = 0, received = 0, bad = 0;
  int lossy = 0;
  double jsum = 0, jmax = 0;
  for (int i = 0; i < 2 * ncalls; i++) {
    struct stream *st = &streams[i];
    sent += st->sent;
    received += st->received;
    bad += st->dup_or_stray;
    if (st->received < st->sent) lossy++;
    jsum += st->jitter_ns;
    if (st->jitter_ns > jmax) jmax = st->jitter_ns;
  }
  printf("{\"calls\":%d,\"sendFailed\":%llu,\"sent\":%llu,\"received\":%llu,\"duplicatesOrStray\":%llu,\"strayUnknown\":%llu,"
         "\"streamsWithLoss\":%d,\"p50Us\":%.0f,\"p99Us\":%.0f,\"p999Us\":%.0f,\"maxUs\":%.0f,"
         "\"jitterMeanUs\":%.1f,\"jitterMaxUs\":%.1f,\"cpuSec\":%.3f,\"wallSec\":%.3f}\n",
         ncalls, (unsigned long long)send_failed, (unsigned long long)sent, (unsigned long long)received, (unsigned long long)bad,
         (unsigned long long)stray, lossy, percentile_us(received, 0.5), percentile_us(received, 0.99),
         percentile_us(received, 0.999), delay_max_ns / 1000.0, jsum / (2 * ncalls) / 1000.0, jmax / 1000.0, cpu,
         seconds + drain_ms / 1000.0);
  return 0;
}
