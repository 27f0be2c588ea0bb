// Memory bandwidth probes for the CPU benchmark (STREAM-like): a sequential
// read of a large buffer and a gather of random 256-byte rows, both with
// OpenMP. Built and loaded by cpu_bench.py on the machine being measured.
#include <stdint.h>
#include <stddef.h>

// Sums n floats; returns the sum so the reads cannot be optimized away.
double magicpig_bench_read(const float *data, int64_t n) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int64_t block = 0; block < n / 1024; ++block) {
    float acc[16] = {0};
    const float *p = data + block * 1024;
    for (int i = 0; i < 1024; i += 16)
      for (int l = 0; l < 16; ++l)
        acc[l] += p[i + l];
    for (int l = 0; l < 16; ++l)
      total += acc[l];
  }
  return total;
}

// Sums the rows named by `rows` (each `row_floats` floats long).
double magicpig_bench_gather(const float *data, const int32_t *rows,
                             int64_t count, int64_t row_floats) {
  double total = 0.0;
#pragma omp parallel for reduction(+ : total) schedule(static)
  for (int64_t r = 0; r < count; ++r) {
    const float *p = data + (int64_t)rows[r] * row_floats;
    // Independent lanes so the sum vectorizes and the probe measures memory,
    // not a chain of dependent float additions.
    float acc[16] = {0};
    for (int64_t i = 0; i + 16 <= row_floats; i += 16)
      for (int l = 0; l < 16; ++l)
        acc[l] += p[i + l];
    for (int l = 0; l < 16; ++l)
      total += acc[l];
  }
  return total;
}
