/*
 * The sieve of Eratosthenes below n, as the heap benchmark's Jot program (n from argv): one
 * zeroed array of n bools from calloc, given back with free. On stderr: its allocation, its
 * bytes and the CPU seconds of the run, for the heap table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>
#include <stdbool.h>

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 1000000;
  bool *composite = calloc((size_t)n, sizeof *composite);
  if (composite == NULL) {
    fputs("out of memory\n", stderr);
    return 1;
  }
  int64_t count = 0;
  for (int64_t i = 2; i < n; i++) {
    if (!composite[i]) {
      count++;
      for (int64_t j = i * i; j < n; j += i) composite[j] = true;
    }
  }
  free(composite);
  printf("%lld\n", (long long)count);
  fprintf(stderr, "allocations 1 bytes %lld cpu %.6f\n", (long long)(n * (int64_t)sizeof *composite), (double)clock() / CLOCKS_PER_SEC);
  return 0;
}
