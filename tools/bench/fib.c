/* fib(n) by the naive recursion, as the Jot benchmark: n from argv so gcc cannot fold the answer. */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static int64_t fib(int64_t n) {
  if (n < 2) return n;
  return fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 35;
  printf("%lld\n", (long long)fib(n));
  return 0;
}
