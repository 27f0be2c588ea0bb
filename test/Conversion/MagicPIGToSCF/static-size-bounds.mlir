// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file | FileCheck %s
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file \
// RUN: | grep -c memref.prefetch | FileCheck %s --check-prefix=COUNT

// The lowered code does not grow with a static size: rows of more than 16
// cache lines are prefetched by a loop (not one memref.prefetch per line),
// and shapes too large for the query-block kernel's stack scratch fall to
// the per-position loops even where the scratch size would overflow int64.
// Nor does it grow with estimate's min_collisions (T). The whole file
// lowers to a few dozen prefetches.
// COUNT: {{^[0-9]{1,2}$}}

// d = dv = 2^20 f32: 65536 cache lines per K or V row.
// CHECK-LABEL: func.func @window_attention_long_rows
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x1x?x1048576xf32>
// CHECK: memref.prefetch %[[K]]
func.func @window_attention_long_rows(%q: memref<1x2x1048576xf32>,
    %k: memref<1x1x?x1048576xf32>, %v: memref<1x1x?x1048576xf32>,
    %ws: index, %o: memref<1x2x1048576xf32>, %l: memref<1x2xf32>) {
  magicpig.window_attention sink(4) window_start(%ws) scale(0.001)
    ins(%q, %k, %v : memref<1x2x1048576xf32>, memref<1x1x?x1048576xf32>, memref<1x1x?x1048576xf32>)
    outs(%o, %l : memref<1x2x1048576xf32>, memref<1x2xf32>)
  return
}

// -----

// d = dv = 2^56: the query-block scratch, 256 rows * (2 * 2^56 + 64) * 4
// bytes, wraps around int64 to 64 KiB; it must still be rejected.
// CHECK-LABEL: func.func @prefill_huge_head_dim
// CHECK: memref.prefetch
func.func @prefill_huge_head_dim(%q: memref<1x16x?x72057594037927936xf32>,
    %k: memref<1x1x?x72057594037927936xf32>,
    %v: memref<1x1x?x72057594037927936xf32>,
    %o: memref<1x16x?x72057594037927936xf32>) {
  magicpig.attention scale(0.125) causal
    ins(%q, %k, %v : memref<1x16x?x72057594037927936xf32>, memref<1x1x?x72057594037927936xf32>, memref<1x1x?x72057594037927936xf32>)
    outs(%o : memref<1x16x?x72057594037927936xf32>)
  return
}

// -----

// T = 1000 of L = 2000 tables: the terms of the retrieval probability
// u are summed by a loop that carries the sum, x^t and binom(L, t), not
// unrolled (4 ops per term).
// CHECK-LABEL: func.func @estimate_many_collisions
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf64>, vector<16xf64>, f64) {
// CHECK: math.fma
func.func @estimate_many_collisions(%q: memref<1x1x8xf32>,
    %k: memref<1x1x16x8xf32>, %v: memref<1x1x16x8xf32>,
    %n: memref<1x1x16xf32>, %m: memref<1x1x8xf32>, %c: memref<1x1x16xi32>,
    %cnt: memref<1x1xi32>, %o: memref<1x1x8xf32>, %l: memref<1x1xf32>) {
  magicpig.estimate bits(1) tables(2000) min_collisions(1000) scale(0.35)
    ins(%q, %k, %v, %n, %m, %c, %cnt : memref<1x1x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16x8xf32>, memref<1x1x16xf32>, memref<1x1x8xf32>, memref<1x1x16xi32>, memref<1x1xi32>)
    outs(%o, %l : memref<1x1x8xf32>, memref<1x1xf32>)
  return
}
