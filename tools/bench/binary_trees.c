/*
 * Binary trees, as tools/bench/binary_trees.jot (the depth from argv): every node from
 * malloc, and every tree given back with free once it is checked, as a C programmer would
 * write it. On stderr: how many nodes were allocated, their bytes and the CPU seconds of the
 * run, for the heap table.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <time.h>

struct tree {
  struct tree *left, *right;
};

static int64_t allocations = 0;

static struct tree *new_tree(struct tree *left, struct tree *right) {
  struct tree *tree = malloc(sizeof *tree);
  if (tree == NULL) {
    fputs("out of memory\n", stderr);
    exit(1);
  }
  allocations++;
  tree->left = left;
  tree->right = right;
  return tree;
}

static struct tree *bottom_up(int64_t depth) {
  if (depth <= 0) return new_tree(NULL, NULL);
  struct tree *left = bottom_up(depth - 1);
  return new_tree(left, bottom_up(depth - 1));
}

static int64_t check(const struct tree *tree) {
  if (tree->left == NULL) return 1;
  return 1 + check(tree->left) + check(tree->right);
}

static void release(struct tree *tree) {
  if (tree->left != NULL) {
    release(tree->left);
    release(tree->right);
  }
  free(tree);
}

int main(int argc, char **argv) {
  int64_t min_depth = 4;
  int64_t max_depth = argc > 1 ? atoll(argv[1]) : 16;
  struct tree *stretch = bottom_up(max_depth + 1);
  printf("%lld\n", (long long)check(stretch));
  release(stretch);
  struct tree *long_lived = bottom_up(max_depth);
  for (int64_t depth = min_depth; depth <= max_depth; depth += 2) {
    int64_t iterations = (int64_t)1 << (max_depth - depth + min_depth);
    int64_t total = 0;
    for (int64_t i = 0; i < iterations; i++) {
      struct tree *tree = bottom_up(depth);
      total += check(tree);
      release(tree);
    }
    printf("%lld\n%lld\n", (long long)iterations, (long long)total);
  }
  printf("%lld\n", (long long)check(long_lived));
  release(long_lived);
  fprintf(stderr, "allocations %lld bytes %lld cpu %.6f\n", (long long)allocations, (long long)(allocations * (int64_t)sizeof(struct tree)),
          (double)clock() / CLOCKS_PER_SEC);
  return 0;
}
