// The machine's read bandwidth, the ceiling of token generation (which reads every weight once per
// token): `bandwidth <threads> <MiB>` prints the best GB/s of 5 passes over a buffer much larger
// than the caches, each thread reading its own slice. Compiled by bench/run.ts with gcc -O3
// -march=native, so the loop is vectorized as a good native reader would be.
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  const uint64_t *p;
  size_t n;
  uint64_t sum;
} slice_t;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void *read_slice(void *arg) {
  slice_t *s = arg;
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= s->n; i += 4) {
    a += s->p[i];
    b += s->p[i + 1];
    c += s->p[i + 2];
    d += s->p[i + 3];
  }
  s->sum = a + b + c + d;
  return NULL;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : 1;
  size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
  if (threads < 1 || threads > 64 || mib < 1) {
    fprintf(stderr, "usage: bandwidth <threads 1..64> <MiB>\n");
    return 2;
  }
  size_t n = mib * 1024 * 1024 / 8;
  uint64_t *buf = malloc(n * 8);
  if (!buf) return 1;
  for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;  // touch every page
  double best = 0;
  uint64_t total = 0;
  for (int pass = 0; pass < 5; pass++) {
    pthread_t th[64];
    slice_t s[64];
    double t0 = now();
    for (int t = 0; t < threads; t++) {
      s[t].p = buf + n / threads * t;
      s[t].n = n / threads;
      pthread_create(&th[t], NULL, read_slice, &s[t]);
    }
    for (int t = 0; t < threads; t++) {
      pthread_join(th[t], NULL);
      total += s[t].sum;
    }
    double gbs = (double)(n / threads * threads) * 8 / (now() - t0) / 1e9;
    if (gbs > best) best = gbs;
  }
  printf("%.2f\n", best);
  if (total == 42) fprintf(stderr, "#");  // keep the sums alive
  free(buf);
  return 0;
}
