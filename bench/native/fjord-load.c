/*
 * fjord-load: a small librdkafka load generator for bench/run.mjs (built by scripts/setup-bench.sh
 * against Debian's librdkafka-dev; lighter on CPU than a Node client, so it is not the bottleneck).
 *
 *   fjord-load create   BOOTSTRAP TOPIC PARTITIONS
 *   fjord-load produce  BOOTSTRAP TOPIC --acks 1|all --seconds S --max-msgs N --size B
 *                       [--linger-ms 5] [--batch-bytes 1048576] [--spread sticky|rr --partitions P]
 *   fjord-load consume  BOOTSTRAP TOPIC --partitions P --expect N --timeout-s S
 *   fjord-load latency  BOOTSTRAP TOPIC --partitions P --rate R --seconds S --warmup-s W --size B
 *                       [--acks all] [--linger-ms 0]
 *
 * Each command prints one JSON line on stdout (errors on stderr, exit 1). Times are
 * CLOCK_MONOTONIC; cpuSec/cpuShare come from /proc/self/stat (utime+stime) over the measured
 * window; cpuShare is in cores (1.0 = one core busy).
 */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}
static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* utime + stime of this process, in seconds, from /proc/self/stat. */
static double cpu_s(void) {
  FILE *f = fopen("/proc/self/stat", "r");
  if (!f) return 0;
  char buf[4096];
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  p += 2; /* state is field 3 */
  unsigned long long ut = 0, st = 0;
  int field = 3;
  char *tok = strtok(p, " ");
  while (tok) {
    if (field == 14) ut = strtoull(tok, NULL, 10);
    if (field == 15) { st = strtoull(tok, NULL, 10); break; }
    tok = strtok(NULL, " ");
    field++;
  }
  return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static void die(const char *what, const char *why) {
  fprintf(stderr, "fjord-load: %s: %s\n", what, why);
  exit(1);
}

static const char *opt(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 0; i < argc - 1; i++)
    if (!strcmp(argv[i], name)) return argv[i + 1];
  return dflt;
}

static void set(rd_kafka_conf_t *c, const char *k, const char *v) {
  char err[512];
  if (rd_kafka_conf_set(c, k, v, err, sizeof err) != RD_KAFKA_CONF_OK) die(k, err);
}

static rd_kafka_conf_t *base_conf(const char *bootstrap) {
  rd_kafka_conf_t *c = rd_kafka_conf_new();
  set(c, "bootstrap.servers", bootstrap);
  set(c, "client.id", "fjord-bench");
  set(c, "api.version.request", "true");
  set(c, "log_level", "3");
  /* FJORD_LOAD_CONFIG="key=value;key=value": extra librdkafka settings (security.protocol, sasl.*,
     ssl.* for the TLS bench) without a flag per setting. */
  const char *extra = getenv("FJORD_LOAD_CONFIG");
  if (extra && *extra) {
    char *copy = strdup(extra), *save = NULL;
    for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
      char *eq = strchr(kv, '=');
      if (!eq) die("FJORD_LOAD_CONFIG", kv);
      *eq = 0;
      set(c, kv, eq + 1);
    }
    free(copy);
  }
  return c;
}

/* ------------------------------------------------------------------ create */
static int cmd_create(const char *bootstrap, const char *topic, int partitions) {
  char err[512];
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(bootstrap), err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  rd_kafka_NewTopic_t *nt = rd_kafka_NewTopic_new(topic, partitions, 1, err, sizeof err);
  if (!nt) die("NewTopic", err);
  rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(o, 30000, err, sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(o, 30000, err, sizeof err);
  double t0 = now_s();
  rd_kafka_CreateTopics(rk, &nt, 1, o, q);
  rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 40000);
  if (!ev) die("CreateTopics", "timed out");
  if (rd_kafka_event_error(ev)) die("CreateTopics", rd_kafka_event_error_string(ev));
  const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
  size_t cnt;
  const rd_kafka_topic_result_t **tr = rd_kafka_CreateTopics_result_topics(res, &cnt);
  for (size_t i = 0; i < cnt; i++) {
    rd_kafka_resp_err_t e = rd_kafka_topic_result_error(tr[i]);
    if (e && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) die("CreateTopics", rd_kafka_err2str(e));
  }
  printf("{\"topic\":\"%s\",\"partitions\":%d,\"ms\":%.1f}\n", topic, partitions, (now_s() - t0) * 1000);
  rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(o);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
  return 0;
}

/* ------------------------------------------------------------------ produce */
static long long g_delivered, g_delivered_bytes, g_failed;
static char g_last_err[256];

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
  (void)rk; (void)opaque;
  if (m->err) {
    g_failed++;
    snprintf(g_last_err, sizeof g_last_err, "%s", rd_kafka_err2str(m->err));
  } else {
    g_delivered++;
    g_delivered_bytes += m->len;
  }
}

static int cmd_produce(const char *bootstrap, const char *topic, int argc, char **argv) {
  const char *acks = opt(argc, argv, "--acks", "all");
  double seconds = atof(opt(argc, argv, "--seconds", "10"));
  long long max_msgs = atoll(opt(argc, argv, "--max-msgs", "100000000"));
  int size = atoi(opt(argc, argv, "--size", "1024"));
  const char *linger = opt(argc, argv, "--linger-ms", "5");
  const char *batch = opt(argc, argv, "--batch-bytes", "1048576");
  const char *spread = opt(argc, argv, "--spread", "sticky");
  int partitions = atoi(opt(argc, argv, "--partitions", "1"));
  int rr = !strcmp(spread, "rr");
  /* --transactional-id ID: transactions of --txn-msgs messages committed back to back (issue #10) */
  const char *txn_id = opt(argc, argv, "--transactional-id", NULL);
  long long txn_msgs = atoll(opt(argc, argv, "--txn-msgs", "1000"));
  const char *idempotence = opt(argc, argv, "--idempotence", txn_id ? "true" : "false");

  char err[512];
  rd_kafka_conf_t *c = base_conf(bootstrap);
  set(c, "acks", acks);
  set(c, "linger.ms", linger);
  set(c, "batch.size", batch);
  set(c, "batch.num.messages", "1000000");
  set(c, "message.max.bytes", "2000000");
  set(c, "compression.type", "none");
  set(c, "enable.idempotence", idempotence);
  set(c, "max.in.flight.requests.per.connection", "5");
  set(c, "queue.buffering.max.kbytes", "65536");
  set(c, "queue.buffering.max.messages", "1000000");
  set(c, "message.timeout.ms", "60000");
  if (txn_id) {
    set(c, "transactional.id", txn_id);
    set(c, "transaction.timeout.ms", "60000");
  }
  rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  if (!rk) die("rd_kafka_new", err);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
  rd_kafka_error_t *txerr;
#define TXN_CALL(what, call) \
  if ((txerr = (call))) die(what, rd_kafka_error_string(txerr))
  if (txn_id) TXN_CALL("init_transactions", rd_kafka_init_transactions(rk, 30000));

  /* warm up: metadata + connection, one message delivered before the clock starts */
  char *payload = malloc(size);
  memset(payload, 'x', size);
  if (txn_id) TXN_CALL("begin_transaction", rd_kafka_begin_transaction(rk));
  if (rd_kafka_produce(rkt, rr ? 0 : RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL))
    die("produce", rd_kafka_err2str(rd_kafka_last_error()));
  if (txn_id) TXN_CALL("commit_transaction", rd_kafka_commit_transaction(rk, 30000));
  rd_kafka_flush(rk, 30000);
  if (g_failed) die("warm-up produce", g_last_err);
  g_delivered = g_delivered_bytes = 0;

  double c0 = cpu_s(), t0 = now_s(), deadline = t0 + seconds;
  long long sent = 0, in_txn = 0, txns = 0;
  double commit_s = 0;
  while (sent < max_msgs) {
    if (txn_id && in_txn == txn_msgs) {
      double tc = now_s();
      TXN_CALL("commit_transaction", rd_kafka_commit_transaction(rk, 60000));
      commit_s += now_s() - tc;
      txns++;
      in_txn = 0;
      if (now_s() >= deadline) break;
    }
    if (!txn_id && (sent & 255) == 0 && now_s() >= deadline) break;
    if (txn_id && in_txn == 0) TXN_CALL("begin_transaction", rd_kafka_begin_transaction(rk));
    int32_t part = rr ? (int32_t)(sent % partitions) : RD_KAFKA_PARTITION_UA;
    if (rd_kafka_produce(rkt, part, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL)) {
      if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk, 1);
        if (!txn_id && now_s() >= deadline) break;
        continue;
      }
      die("produce", rd_kafka_err2str(rd_kafka_last_error()));
    }
    sent++;
    in_txn++;
    if ((sent & 1023) == 0) rd_kafka_poll(rk, 0);
  }
  if (txn_id && in_txn > 0) {
    TXN_CALL("commit_transaction", rd_kafka_commit_transaction(rk, 60000));
    txns++;
  }
  double t_sent = now_s();
  int flush_ms = atoi(opt(argc, argv, "--flush-timeout-ms", "20000"));
  int timed_out = rd_kafka_flush(rk, flush_ms) == RD_KAFKA_RESP_ERR__TIMED_OUT;
  int undelivered = rd_kafka_outq_len(rk);
  double t1 = now_s(), c1 = cpu_s();
  double el = t1 - t0;
  printf("{\"msgs\":%lld,\"bytes\":%lld,\"failed\":%lld,\"sent\":%lld,\"flushTimedOut\":%s,\"undelivered\":%d,"
         "\"seconds\":%.3f,\"sendSeconds\":%.3f,"
         "\"MBps\":%.2f,\"msgsPerSec\":%.0f,\"cpuSec\":%.3f,\"cpuShare\":%.3f,\"transactions\":%lld,\"meanCommitMs\":%.2f,\"lastError\":\"%s\"}\n",
         g_delivered, g_delivered_bytes, g_failed, sent, timed_out ? "true" : "false", undelivered, el, t_sent - t0,
         g_delivered_bytes / el / 1e6, g_delivered / el, c1 - c0, (c1 - c0) / el, txns, txns ? commit_s * 1000 / txns : 0.0, g_last_err);
  fflush(stdout);
  rd_kafka_topic_destroy(rkt);
  if (timed_out) _exit(1); /* rd_kafka_destroy would wait for the stuck messages */
  rd_kafka_destroy(rk);
  free(payload);
  return g_failed ? 1 : 0;
}

/* ------------------------------------------------------------------ consumer helper */
static const char *g_fetch_wait = "100";
static rd_kafka_t *make_consumer(const char *bootstrap, const char *topic, int partitions) {
  char err[512];
  rd_kafka_conf_t *c = base_conf(bootstrap);
  char gid[128];
  snprintf(gid, sizeof gid, "fjord-bench-%d", (int)getpid());
  set(c, "group.id", gid);
  set(c, "enable.auto.commit", "false");
  set(c, "enable.auto.offset.store", "false");
  set(c, "auto.offset.reset", "earliest");
  set(c, "fetch.wait.max.ms", g_fetch_wait);
  set(c, "fetch.min.bytes", "1");
  set(c, "fetch.error.backoff.ms", "10");
  set(c, "max.partition.fetch.bytes", "4194304");
  set(c, "fetch.max.bytes", "52428800");
  set(c, "receive.message.max.bytes", "60000000");
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, c, err, sizeof err);
  if (!rk) die("rd_kafka_new consumer", err);
  rd_kafka_poll_set_consumer(rk);
  rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; p++)
    rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk, l);
  if (e) die("assign", rd_kafka_err2str(e));
  rd_kafka_topic_partition_list_destroy(l);
  return rk;
}

/* ------------------------------------------------------------------ consume */
static int cmd_consume(const char *bootstrap, const char *topic, int argc, char **argv) {
  int partitions = atoi(opt(argc, argv, "--partitions", "1"));
  long long expect = atoll(opt(argc, argv, "--expect", "1"));
  double timeout = atof(opt(argc, argv, "--timeout-s", "60"));
  rd_kafka_t *rk = make_consumer(bootstrap, topic, partitions);
  double start = now_s(), t0 = 0, c0 = 0, tlast = 0;
  long long n = 0, bytes = 0, errors = 0;
  char last_err[256] = "";
  while (n < expect && now_s() - start < timeout) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
    if (!m) continue;
    if (m->err) {
      if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        errors++;
        snprintf(last_err, sizeof last_err, "%s", rd_kafka_message_errstr(m));
      }
    } else {
      if (n == 0) { t0 = now_s(); c0 = cpu_s(); }
      n++;
      bytes += m->len;
      tlast = now_s();
    }
    rd_kafka_message_destroy(m);
  }
  double c1 = cpu_s();
  double el = n > 1 ? tlast - t0 : 0;
  printf("{\"msgs\":%lld,\"bytes\":%lld,\"expected\":%lld,\"seconds\":%.3f,\"firstMessageMs\":%.1f,"
         "\"MBps\":%.2f,\"cpuSec\":%.3f,\"cpuShare\":%.3f,\"errors\":%lld,\"lastError\":\"%s\"}\n",
         n, bytes, expect, el, n ? (t0 - start) * 1000 : -1.0, el > 0 ? bytes / el / 1e6 : 0.0,
         c1 - c0, el > 0 ? (c1 - c0) / el : 0.0, errors, last_err);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  return n >= expect ? 0 : 1;
}

/* ------------------------------------------------------------------ latency */
struct lat_state {
  rd_kafka_t *consumer;
  volatile int stop;
  int64_t warmup_until_ns;
  int64_t *samples;
  long long nsamples, cap, received;
};

static void *lat_consumer(void *arg) {
  struct lat_state *s = arg;
  while (!s->stop) {
    rd_kafka_message_t *m = rd_kafka_consumer_poll(s->consumer, 50);
    if (!m) continue;
    if (!m->err && m->len >= 8) {
      int64_t now = now_ns(), sent;
      memcpy(&sent, m->payload, 8);
      s->received++;
      if (sent >= s->warmup_until_ns && s->nsamples < s->cap) s->samples[s->nsamples++] = now - sent;
    }
    rd_kafka_message_destroy(m);
  }
  return NULL;
}

static int cmp64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *v, long long n, double p) {
  if (!n) return -1;
  long long i = (long long)(p * n);
  if (i >= n) i = n - 1;
  return v[i] / 1e6;
}

static int cmd_latency(const char *bootstrap, const char *topic, int argc, char **argv) {
  int partitions = atoi(opt(argc, argv, "--partitions", "1"));
  double rate = atof(opt(argc, argv, "--rate", "5000"));
  double seconds = atof(opt(argc, argv, "--seconds", "10"));
  double warmup = atof(opt(argc, argv, "--warmup-s", "1"));
  int size = atoi(opt(argc, argv, "--size", "1024"));
  if (size < 8) size = 8;
  char err[512];
  rd_kafka_conf_t *c = base_conf(bootstrap);
  set(c, "acks", opt(argc, argv, "--acks", "all"));
  set(c, "linger.ms", opt(argc, argv, "--linger-ms", "0"));
  set(c, "max.in.flight.requests.per.connection", opt(argc, argv, "--max-in-flight", "5"));
  set(c, "compression.type", "none");
  set(c, "enable.idempotence", "false");
  rd_kafka_conf_set_dr_msg_cb(c, dr_cb);
  rd_kafka_t *prod = rd_kafka_new(RD_KAFKA_PRODUCER, c, err, sizeof err);
  if (!prod) die("rd_kafka_new", err);
  rd_kafka_topic_t *rkt = rd_kafka_topic_new(prod, topic, NULL);

  struct lat_state s = {0};
  s.consumer = make_consumer(bootstrap, topic, partitions);
  s.cap = (long long)(rate * (seconds + 1)) + 1000;
  s.samples = malloc(sizeof(int64_t) * s.cap);
  s.warmup_until_ns = INT64_MAX;
  pthread_t th;
  pthread_create(&th, NULL, lat_consumer, &s);

  char *payload = malloc(size);
  memset(payload, 'x', size);
  /* warm up connections (and let the consumer start fetching) */
  for (int i = 0; i < 10; i++) {
    int64_t t = now_ns();
    memcpy(payload, &t, 8);
    rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL);
  }
  rd_kafka_flush(prod, 30000);
  double wait_until = now_s() + 10;
  while (s.received < 10 && now_s() < wait_until) usleep(1000);

  if (getenv("FJORD_LOAD_DEBUG")) fprintf(stderr, "warm-up done: received %lld\n", s.received);
  double t0 = now_s(), c0 = cpu_s();
  s.warmup_until_ns = now_ns() + (int64_t)(warmup * 1e9);
  long long sent = 0;
  double end = t0 + seconds;
  for (;;) {
    double t = now_s();
    if (t >= end) break;
    long long target = (long long)((t - t0) * rate);
    while (sent < target) {
      int64_t ts = now_ns();
      memcpy(payload, &ts, 8);
      if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload, size, NULL, 0, NULL)) {
        if (rd_kafka_last_error() == RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
        die("produce", rd_kafka_err2str(rd_kafka_last_error()));
      }
      sent++;
    }
    rd_kafka_poll(prod, 0);
    usleep(100);
  }
  if (getenv("FJORD_LOAD_DEBUG")) fprintf(stderr, "sent %lld in %.2fs, received %lld\n", sent, now_s() - t0, s.received);
  rd_kafka_flush(prod, 30000);
  if (getenv("FJORD_LOAD_DEBUG")) fprintf(stderr, "flushed at %.2fs, received %lld, failed %lld\n", now_s() - t0, s.received, g_failed);
  double drain_until = now_s() + 5;
  while (s.received < sent + 10 && now_s() < drain_until) usleep(1000);
  double el = now_s() - t0, c1 = cpu_s();
  s.stop = 1;
  pthread_join(th, NULL);
  qsort(s.samples, s.nsamples, sizeof(int64_t), cmp64);
  double mean = 0;
  for (long long i = 0; i < s.nsamples; i++) mean += s.samples[i];
  mean = s.nsamples ? mean / s.nsamples / 1e6 : -1;
  printf("{\"sent\":%lld,\"received\":%lld,\"samples\":%lld,\"rate\":%.0f,\"p50Ms\":%.3f,\"p90Ms\":%.3f,"
         "\"p99Ms\":%.3f,\"p999Ms\":%.3f,\"maxMs\":%.3f,\"meanMs\":%.3f,\"cpuSec\":%.3f,\"cpuShare\":%.3f,"
         "\"failed\":%lld,\"lastError\":\"%s\"}\n",
         sent, s.received - 10, s.nsamples, rate, pct(s.samples, s.nsamples, 0.5), pct(s.samples, s.nsamples, 0.9),
         pct(s.samples, s.nsamples, 0.99), pct(s.samples, s.nsamples, 0.999),
         s.nsamples ? s.samples[s.nsamples - 1] / 1e6 : -1.0, mean, c1 - c0, (c1 - c0) / el, g_failed, g_last_err);
  rd_kafka_consumer_close(s.consumer);
  rd_kafka_destroy(s.consumer);
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(prod);
  free(s.samples);
  free(payload);
  return s.nsamples ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "version")) {
    printf("librdkafka %s\n", rd_kafka_version_str());
    return 0;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: fjord-load create|produce|consume|latency BOOTSTRAP TOPIC [options]\n");
    return 2;
  }
  g_fetch_wait = opt(argc, argv, "--fetch-wait-ms", "100");
  const char *cmd = argv[1], *bootstrap = argv[2], *topic = argv[3];
  if (!strcmp(cmd, "create")) return cmd_create(bootstrap, topic, argc > 4 ? atoi(argv[4]) : 1);
  if (!strcmp(cmd, "produce")) return cmd_produce(bootstrap, topic, argc, argv);
  if (!strcmp(cmd, "consume")) return cmd_consume(bootstrap, topic, argc, argv);
  if (!strcmp(cmd, "latency")) return cmd_latency(bootstrap, topic, argc, argv);
  fprintf(stderr, "unknown command %s\n", cmd);
  return 2;
}
