/* The integer loop of the Jot benchmark: sum of (i ^ (i >> 3)) % 7 for i < n (n from argv). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 30000000;
  int64_t sum = 0;
  for (int64_t i = 0; i < n; i++) sum = sum + (i ^ (i >> 3)) % 7;
  printf("%lld\n", (long long)sum);
  return 0;
}
