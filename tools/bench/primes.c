/* Primes below n by trial division, as the Jot benchmark (n from argv). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static int is_prime(int64_t n) {
  if (n < 2) return 0;
  for (int64_t d = 2; d * d <= n; d++) if (n % d == 0) return 0;
  return 1;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 300000;
  int64_t count = 0;
  for (int64_t k = 0; k < n; k++) if (is_prime(k)) count++;
  printf("%lld\n", (long long)count);
  return 0;
}
