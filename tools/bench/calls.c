/* Many calls of small functions, as the Jot benchmark (n from argv). noinline keeps the calls. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

__attribute__((noinline)) static int64_t square(int64_t x) { return x * x; }
__attribute__((noinline)) static int64_t add3(int64_t a, int64_t b, int64_t c) { return a + b + c; }
__attribute__((noinline)) static int64_t clamp(int64_t x, int64_t limit) { return x > limit ? x - limit : x; }

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 10000000;
  int64_t acc = 0;
  for (int64_t i = 0; i < n; i++) acc = clamp(add3(acc, square(i & 255), i), 1000000007);
  printf("%lld\n", (long long)acc);
  return 0;
}
