// Native reference figures for the kernels benchmark, compiled with gcc at bench time.
//   native bw <threads> <MiB>                       read bandwidth (GB/s) over a buffer
//   native dot <libdir> <type> <acttype> <rows> <cols> <reps>   llama.cpp's ggml_vec_dot, 1 thread
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// CPU time of this thread: the machine is shared, so wall time would mostly measure the others.
static double cpu_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

typedef struct { const uint64_t *p; size_t n; uint64_t sum; } part_t;

static void *reader(void *arg) {
  part_t *pt = arg;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= pt->n; i += 4) { a ^= pt->p[i]; b ^= pt->p[i + 1]; c ^= pt->p[i + 2]; d ^= pt->p[i + 3]; }
  pt->sum = a ^ b ^ c ^ d;
  return NULL;
}

static int bw(int threads, size_t mib) {
  size_t n = mib * 1024 * 1024 / 8;
  uint64_t *buf = malloc(n * 8);
  for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
  double best = 0;
  for (int rep = 0; rep < 5; rep++) {
    pthread_t th[64];
    part_t parts[64];
    double t0 = now();
    for (int t = 0; t < threads; t++) {
      parts[t].p = buf + n / threads * t;
      parts[t].n = n / threads;
      pthread_create(&th[t], NULL, reader, &parts[t]);
    }
    uint64_t s = 0;
    for (int t = 0; t < threads; t++) { pthread_join(th[t], NULL); s ^= parts[t].sum; }
    double dt = now() - t0;
    double gbs = n * 8 / dt / 1e9;
    if (gbs > best) best = gbs;
    if (s == 42) printf("#");
  }
  printf("%.2f\n", best);
  free(buf);
  return 0;
}

typedef size_t (*quantize_chunk_t)(int, const float *, void *, int64_t, int64_t, int64_t, const float *);
typedef void (*quantize_row_t)(const float *, void *, int64_t);
typedef void (*vec_dot_t)(int, float *, size_t, const void *, size_t, const void *, size_t, int);

static int dot(const char *libdir, const char *type, const char *act, int tid, int rows, int cols, int reps) {
  char path[4096];
  snprintf(path, sizeof path, "%s/libggml-base.so", libdir);
  void *base = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  const char *variants[] = {"zen4", "icelake", "skylakex", "haswell", "x64"};
  void *cpu = NULL;
  for (int i = 0; i < 5 && !cpu; i++) {
    snprintf(path, sizeof path, "%s/libggml-cpu-%s.so", libdir, variants[i]);
    cpu = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  }
  if (!base || !cpu) { fprintf(stderr, "cannot load ggml from %s\n", libdir); return 1; }
  void (*init)(void) = dlsym(cpu, "ggml_cpu_init");
  if (init) init();
  quantize_chunk_t qc = dlsym(base, "ggml_quantize_chunk");
  char name[128];
  snprintf(name, sizeof name, "quantize_row_%s", act);
  quantize_row_t qr = dlsym(cpu, name);
  snprintf(name, sizeof name, "ggml_vec_dot_%s_%s", type, act);
  vec_dot_t vd = dlsym(cpu, name);
  if (!qc || !qr || !vd) { fprintf(stderr, "missing symbol %s\n", name); return 1; }
  float *w = malloc(sizeof(float) * (size_t)rows * cols);
  for (size_t i = 0; i < (size_t)rows * cols; i++) w[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  void *wq = malloc((size_t)rows * cols * 2);
  size_t bytes = qc(tid, w, wq, 0, rows, cols, NULL);
  size_t rb = bytes / rows;
  float *x = malloc(sizeof(float) * cols);
  for (int i = 0; i < cols; i++) x[i] = (float)(i % 17) / 17.0f - 0.5f;
  void *xq = malloc(cols * 2);
  float *y = malloc(sizeof(float) * rows);
  double best = 1e9;
  for (int rep = 0; rep < reps; rep++) {
    double t0 = cpu_now();
    qr(x, xq, cols);
    for (int r = 0; r < rows; r++) vd(cols, &y[r], 0, (char *)wq + r * rb, 0, xq, 0, 1);
    double dt = cpu_now() - t0;
    if (dt < best) best = dt;
  }
  printf("%.6f %zu\n", best, bytes);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && !strcmp(argv[1], "bw")) return bw(atoi(argv[2]), atoi(argv[3]));
  if (argc >= 9 && !strcmp(argv[1], "dot")) return dot(argv[2], argv[3], argv[4], atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), atoi(argv[8]));
  fprintf(stderr, "usage: native bw <threads> <MiB> | native dot <libdir> <type> <act> <ggml id> <rows> <cols> <reps>\n");
  return 2;
}
