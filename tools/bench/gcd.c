/* Sum of gcd(a, b) for 1 <= a, b < n by Euclid's remainders, as the Jot benchmark (n from argv). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

static int64_t gcd(int64_t a, int64_t b) {
  while (b != 0) {
    int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 1000;
  int64_t sum = 0;
  for (int64_t a = 1; a < n; a++)
    for (int64_t b = 1; b < n; b++) sum = sum + gcd(a, b);
  printf("%lld\n", (long long)sum);
  return 0;
}
