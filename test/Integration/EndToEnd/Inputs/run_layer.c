// Drives a compiled Inputs/gqa_layer.mlir (prefill + decode, raised and
// sparsified by magicpig-compile) through its C entry points and compares
// the decode output with exact attention computed here in plain C (an
// independent reference: a naive softmax over all keys).
//
//   run_layer <library.so> <tolerance>
// prints "max abs error E, relative L2 error R" and "within tolerance: 0|1".
#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HQ = 4, HKV = 2, NP = 256, N = NP + 1, D = 16, GROUP = HQ / HKV };

typedef struct { float *allocated, *aligned; int64_t offset, sizes[3], strides[3]; } MemRef3F;
typedef struct { float *allocated, *aligned; int64_t offset, sizes[4], strides[4]; } MemRef4F;
typedef struct { int32_t *allocated, *aligned; int64_t offset, sizes[4], strides[4]; } MemRef4I;
typedef struct { int32_t *allocated, *aligned; int64_t offset, sizes[2], strides[2]; } MemRef2I;
typedef struct { MemRef4F out; MemRef4I offsets, indices; MemRef3F norms, mean; } PrefillResults;
// magicpig-compile --return-counts (the default): decode also returns the
// retrieve count [1, HQ] of the sparse layer.
typedef struct { MemRef4F out; MemRef2I counts; } DecodeResults;

static MemRef4F view4(float *data, int64_t a, int64_t b, int64_t c, int64_t d) {
  MemRef4F m = {data, data, 0, {a, b, c, d}, {b * c * d, c * d, d, 1}};
  return m;
}

// Deterministic standard normals (xorshift + Box-Muller).
static uint64_t rngState = 88172645463325252ull;
static double uniform(void) {
  rngState ^= rngState << 13; rngState ^= rngState >> 7; rngState ^= rngState << 17;
  return ((rngState >> 11) + 1.0) * 0x1.0p-53;
}
static float normal(void) {
  return (float)(sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform()));
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: run_layer lib.so tolerance\n"); return 2; }
  double tolerance = atof(argv[2]);
  void *lib = dlopen(argv[1], RTLD_NOW);
  if (!lib) { fprintf(stderr, "%s\n", dlerror()); return 2; }
  void (*prefill)(PrefillResults *, MemRef4F *, MemRef4F *, MemRef4F *) =
      (void (*)(PrefillResults *, MemRef4F *, MemRef4F *, MemRef4F *))dlsym(lib, "_mlir_ciface_prefill");
  void (*decode)(DecodeResults *, MemRef4F *, MemRef4F *, MemRef4F *, MemRef4I *, MemRef4I *, MemRef3F *, MemRef3F *) =
      (void (*)(DecodeResults *, MemRef4F *, MemRef4F *, MemRef4F *, MemRef4I *, MemRef4I *, MemRef3F *, MemRef3F *))
          dlsym(lib, "_mlir_ciface_decode");
  if (!prefill || !decode) { fprintf(stderr, "entry points missing\n"); return 2; }

  // Keys of real caches: a shared offset per head, a low-rank part and noise;
  // a few keys lie along the decode query (the heavy hitters of attention).
  // Values share a per-head mean.
  static float k[HKV][N][D], v[HKV][N][D], kp[HKV][NP][D], vp[HKV][NP][D];
  static float qp[HQ][NP][D], qd[HQ][D], basis[HKV][2][D], offset[HKV][D], vmean[HKV][D];
  for (int g = 0; g < HKV; ++g)
    for (int i = 0; i < D; ++i) {
      offset[g][i] = 2.0f * normal(); vmean[g][i] = normal();
      basis[g][0][i] = normal(); basis[g][1][i] = normal();
    }
  for (int h = 0; h < HQ; ++h)
    for (int i = 0; i < D; ++i) qd[h][i] = normal();
  for (int g = 0; g < HKV; ++g)
    for (int j = 0; j < N; ++j) {
      float a = normal(), b = normal();
      for (int i = 0; i < D; ++i) {
        k[g][j][i] = offset[g][i] + a * basis[g][0][i] + b * basis[g][1][i] + 0.3f * normal();
        v[g][j][i] = vmean[g][i] + normal();
      }
    }
  for (int h = 0; h < HQ; ++h)  // 3 heavy hitters per query head in the middle part
    for (int r = 0; r < 3; ++r) {
      int j = 40 + 60 * r + 7 * h, g = h / GROUP;
      for (int i = 0; i < D; ++i) k[g][j][i] = offset[g][i] + 2.5f * qd[h][i] + 0.2f * normal();
    }
  for (int h = 0; h < HQ; ++h)
    for (int s = 0; s < NP; ++s)
      for (int i = 0; i < D; ++i) qp[h][s][i] = normal();
  for (int g = 0; g < HKV; ++g) {
    memcpy(kp[g], k[g], sizeof kp[g]);
    memcpy(vp[g], v[g], sizeof vp[g]);
  }

  MemRef4F mq = view4(&qp[0][0][0], 1, HQ, NP, D), mk = view4(&kp[0][0][0], 1, HKV, NP, D),
           mv = view4(&vp[0][0][0], 1, HKV, NP, D);
  PrefillResults index;
  prefill(&index, &mq, &mk, &mv);

  MemRef4F dq = view4(&qd[0][0], 1, HQ, 1, D), dk = view4(&k[0][0][0], 1, HKV, N, D),
           dv = view4(&v[0][0][0], 1, HKV, N, D);
  DecodeResults results;
  decode(&results, &dq, &dk, &dv, &index.offsets, &index.indices, &index.norms, &index.mean);
  MemRef4F out = results.out;
  int minCount = NP, maxCount = 0;
  for (int h = 0; h < HQ; ++h) {
    int c = results.counts.aligned[results.counts.offset + h * results.counts.strides[1]];
    if (c < minCount) minCount = c;
    if (c > maxCount) maxCount = c;
  }

  // Exact decode attention over all N keys.
  double maxErr = 0, errSq = 0, refSq = 0, minHeavyMass = 1;
  for (int h = 0; h < HQ; ++h) {
    int g = h / GROUP;
    double scores[N], maxScore = -INFINITY, sum = 0, exact[D] = {0};
    for (int j = 0; j < N; ++j) {
      double dot = 0;
      for (int i = 0; i < D; ++i) dot += (double)qd[h][i] * k[g][j][i];
      scores[j] = dot * 0.25;  // 1 / sqrt(D)
      if (scores[j] > maxScore) maxScore = scores[j];
    }
    for (int j = 0; j < N; ++j) sum += (scores[j] = exp(scores[j] - maxScore));
    double heavy = 0;  // softmax mass of this head's planted keys
    for (int r = 0; r < 3; ++r) heavy += scores[40 + 60 * r + 7 * h] / sum;
    if (heavy < minHeavyMass) minHeavyMass = heavy;
    for (int j = 0; j < N; ++j)
      for (int i = 0; i < D; ++i) exact[i] += scores[j] / sum * v[g][j][i];
    for (int i = 0; i < D; ++i) {
      double got = out.aligned[out.offset + h * out.strides[1] + i * out.strides[3]];
      double e = fabs(got - exact[i]);
      if (e > maxErr) maxErr = e;
      errSq += e * e; refSq += exact[i] * exact[i];
    }
  }
  double rel = sqrt(errSq / refSq);
  printf("max abs error %.3g, relative L2 error %.3g\n", maxErr, rel);
  printf("heavy-hitter softmax mass (min over heads) %.4f\n", minHeavyMass);
  printf("retrieved keys per head: min %d max %d\n", minCount, maxCount);
  printf("within tolerance: %d\n", rel <= tolerance);
  free(out.allocated); free(results.counts.allocated); free(index.out.allocated); free(index.offsets.allocated);
  free(index.indices.allocated); free(index.norms.allocated); free(index.mean.allocated);
  return 0;
}
