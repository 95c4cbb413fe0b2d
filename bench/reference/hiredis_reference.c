/* hiredis-reference: the yardstick asyncredis-bench is compared with (bench/README.md).
 *
 * A plain hiredis client doing the benchmark's workload: GET or SET of "key:__rand_int__"
 * (the key redis-benchmark uses without -r) with a 32-byte value, on one TCP connection. It
 * is what a careful user of raw hiredis would write, with no tricks: commands go through
 * hiredis's own argv formatter, replies through its reader.
 *
 *   sync   one command, wait for the reply, repeat (redisCommandArgv); with --threads T, T
 *          such loops on threads of their own, a connection each (inflight= reports T)
 *   async  up to --inflight commands on the wire at once (redisAsyncCommandArgv), on a small
 *          epoll loop of its own, so it needs nothing but hiredis
 *
 * Prints one line:
 *   RESULT client=hiredis-reference mode=<m> cmd=<GET|SET> inflight=<w> n=<n> secs=<s>
 * ops_per_s=<x>
 *
 * Usage: hiredis-reference [--host H] [--port P] --mode sync|async --command get|set
 *                          --requests N [--inflight W] [--threads T]
 */
#include <errno.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

static const char kKey[] = "key:__rand_int__";
static const char kValue[] = "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"; /* 32 bytes */

/* Not const: hiredis 0.14 takes argv as `const char **`. */
struct Workload {
  int is_get;
  const char* argv[3];
  size_t lens[3];
  int argc;
};

static void fail(const char* what, const char* detail) {
  fprintf(stderr, "hiredis-reference: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct Workload make_workload(const char* command) {
  struct Workload w;
  memset(&w, 0, sizeof w);
  w.is_get = strcmp(command, "get") == 0;
  if (!w.is_get && strcmp(command, "set") != 0) fail("--command must be get or set", command);
  w.argv[0] = w.is_get ? "GET" : "SET";
  w.argv[1] = kKey;
  w.argv[2] = kValue;
  for (int i = 0; i < 3; ++i) w.lens[i] = strlen(w.argv[i]);
  w.argc = w.is_get ? 2 : 3;
  return w;
}

/* Sets the key (so GET finds a 32-byte value) on a connection of its own. */
static void prepare(const char* host, int port) {
  redisContext* c = redisConnect(host, port);
  if (c == NULL || c->err) fail("cannot connect", c ? c->errstr : "out of memory");
  redisReply* r = redisCommand(c, "SET %s %s", kKey, kValue);
  if (r == NULL || r->type == REDIS_REPLY_ERROR) fail("SET failed", r ? r->str : c->errstr);
  freeReplyObject(r);
  redisFree(c);
}

/* ---- sync ---------------------------------------------------------------------------- */

/* One caller thread with a connection of its own, as a threaded hiredis user writes it. */
struct SyncCaller {
  redisContext* c;
  struct Workload* w;
  long requests;
};

static void* sync_loop(void* arg) {
  struct SyncCaller* caller = arg;
  for (long i = 0; i < caller->requests; ++i) {
    redisReply* r = redisCommandArgv(caller->c, caller->w->argc, caller->w->argv, caller->w->lens);
    if (r == NULL || r->type == REDIS_REPLY_ERROR)
      fail("command failed", r ? r->str : caller->c->errstr);
    freeReplyObject(r);
  }
  return NULL;
}

/* `threads` callers share `requests` evenly; connections are open before the clock starts. */
static double run_sync(const char* host, int port, struct Workload* w, long requests,
                       long threads) {
  struct SyncCaller callers[256];
  pthread_t ids[256];
  for (long t = 0; t < threads; ++t) {
    callers[t].c = redisConnect(host, port);
    if (callers[t].c == NULL || callers[t].c->err)
      fail("cannot connect", callers[t].c ? callers[t].c->errstr : "out of memory");
    callers[t].w = w;
    callers[t].requests = requests / threads + (t < requests % threads ? 1 : 0);
  }
  const double start = now_seconds();
  if (threads == 1) {
    sync_loop(&callers[0]);
  } else {
    for (long t = 0; t < threads; ++t) pthread_create(&ids[t], NULL, sync_loop, &callers[t]);
    for (long t = 0; t < threads; ++t) pthread_join(ids[t], NULL);
  }
  const double secs = now_seconds() - start;
  for (long t = 0; t < threads; ++t) redisFree(callers[t].c);
  return secs;
}

/* ---- async, on an epoll loop ---------------------------------------------------------- */

/* hiredis's event hooks: it says which directions it wants, the loop tells it when the
 * socket is ready. */
struct Loop {
  int epoll_fd;
  int fd;
  int want_read;
  int want_write;
  int registered;
};

static void loop_update(struct Loop* loop) {
  struct epoll_event ev;
  memset(&ev, 0, sizeof ev);
  ev.events = (loop->want_read ? EPOLLIN : 0) | (loop->want_write ? EPOLLOUT : 0);
  const int op = loop->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(loop->epoll_fd, op, loop->fd, &ev) != 0) fail("epoll_ctl", strerror(errno));
  loop->registered = 1;
}

static void add_read(void* data) {
  struct Loop* loop = data;
  if (!loop->want_read) {
    loop->want_read = 1;
    loop_update(loop);
  }
}
static void del_read(void* data) {
  struct Loop* loop = data;
  if (loop->want_read) {
    loop->want_read = 0;
    loop_update(loop);
  }
}
static void add_write(void* data) {
  struct Loop* loop = data;
  if (!loop->want_write) {
    loop->want_write = 1;
    loop_update(loop);
  }
}
static void del_write(void* data) {
  struct Loop* loop = data;
  if (loop->want_write) {
    loop->want_write = 0;
    loop_update(loop);
  }
}
static void cleanup(void* data) {
  struct Loop* loop = data;
  loop->want_read = loop->want_write = 0;
}

struct AsyncRun {
  redisAsyncContext* ac;
  struct Workload* w;
  long requests;
  long sent;
  long done;
};

static void send_one(struct AsyncRun* run);

static void on_reply(redisAsyncContext* ac, void* reply, void* privdata) {
  (void)ac;
  struct AsyncRun* run = privdata;
  redisReply* r = reply;
  if (r == NULL || r->type == REDIS_REPLY_ERROR)
    fail("command failed", r ? r->str : run->ac->errstr);
  ++run->done;
  if (run->sent < run->requests) send_one(run); /* keep the window full */
}

static void send_one(struct AsyncRun* run) {
  ++run->sent;
  if (redisAsyncCommandArgv(run->ac, on_reply, run, run->w->argc, run->w->argv, run->w->lens) !=
      REDIS_OK) {
    fail("redisAsyncCommandArgv failed", run->ac->errstr);
  }
}

static double run_async(const char* host, int port, struct Workload* w, long requests,
                        long inflight) {
  redisAsyncContext* ac = redisAsyncConnect(host, port);
  if (ac == NULL || ac->err) fail("cannot connect", ac ? ac->errstr : "out of memory");
  struct Loop loop = {epoll_create1(0), ac->c.fd, 0, 0, 0};
  if (loop.epoll_fd < 0) fail("epoll_create1", strerror(errno));
  ac->ev.data = &loop;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;

  struct AsyncRun run = {ac, w, requests, 0, 0};
  const double start = now_seconds();
  while (run.sent < requests && run.sent < inflight) send_one(&run);
  struct epoll_event events[4];
  while (run.done < requests) {
    const int n = epoll_wait(loop.epoll_fd, events, 4, 10000);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("no progress for 10 s", n < 0 ? strerror(errno) : NULL);
    for (int i = 0; i < n; ++i) {
      if (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) redisAsyncHandleRead(ac);
      if (run.done < requests && (events[i].events & EPOLLOUT)) redisAsyncHandleWrite(ac);
    }
    if (ac->err) fail("connection failed", ac->errstr);
  }
  const double secs = now_seconds() - start;
  redisAsyncFree(ac);
  return secs;
}

/* ---- main ------------------------------------------------------------------------------ */

static void usage(const char* self) {
  fprintf(stderr,
          "usage: %s [--host H] [--port P] --mode sync|async --command get|set --requests N "
          "[--inflight W] [--threads T (sync: caller threads, a connection each; 1-256)]\n",
          self);
  exit(2);
}

int main(int argc, char** argv) {
  const char* host = "127.0.0.1";
  const char* mode = NULL;
  const char* command = NULL;
  int port = 6379;
  long requests = 0;
  long inflight = 1;
  long threads = 1;
  for (int i = 1; i < argc; ++i) {
    const char* arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : NULL;
    if (value == NULL) usage(argv[0]);
    if (strcmp(arg, "--host") == 0)
      host = value;
    else if (strcmp(arg, "--port") == 0)
      port = atoi(value);
    else if (strcmp(arg, "--mode") == 0)
      mode = value;
    else if (strcmp(arg, "--command") == 0)
      command = value;
    else if (strcmp(arg, "--requests") == 0)
      requests = atol(value);
    else if (strcmp(arg, "--inflight") == 0)
      inflight = atol(value);
    else if (strcmp(arg, "--threads") == 0)
      threads = atol(value);
    else
      usage(argv[0]);
    ++i;
  }
  if (mode == NULL || command == NULL || requests < 1 || inflight < 1 || port < 1 || threads < 1 ||
      threads > 256) usage(argv[0]);
  struct Workload w = make_workload(command);
  prepare(host, port);
  double secs;
  if (strcmp(mode, "sync") == 0) {
    inflight = threads;
    secs = run_sync(host, port, &w, requests, threads);
  } else if (strcmp(mode, "async") == 0) {
    secs = run_async(host, port, &w, requests, inflight);
  } else {
    usage(argv[0]);
    return 2;
  }
  printf(
      "RESULT client=hiredis-reference mode=%s cmd=%s inflight=%ld n=%ld secs=%.6f "
      "ops_per_s=%.1f\n",
      mode, w.is_get ? "GET" : "SET", inflight, requests, secs, (double)requests / secs);
  return 0;
}
