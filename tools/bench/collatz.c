/* Total Collatz steps of every start below n, as the Jot benchmark (n from argv). */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>

int main(int argc, char **argv) {
  int64_t n = argc > 1 ? atoll(argv[1]) : 300000;
  int64_t total = 0;
  for (int64_t start = 1; start < n; start++) {
    int64_t x = start;
    while (x != 1) {
      if (x % 2 == 0) x = x / 2;
      else x = 3 * x + 1;
      total = total + 1;
    }
  }
  printf("%lld\n", (long long)total);
  return 0;
}
