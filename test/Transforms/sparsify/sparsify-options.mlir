// Invalid options are rejected with an error that names the option.
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-bits=0" 2>&1 | FileCheck %s --check-prefix=BITS
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-bits=17" 2>&1 | FileCheck %s --check-prefix=BITS17
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-tables=0" 2>&1 | FileCheck %s --check-prefix=TABLES
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-tables=4 min-collisions=5" 2>&1 | FileCheck %s --check-prefix=THRESHOLD
// RUN: not magicpig-opt %s --magicpig-sparsify="sink-tokens=-1" 2>&1 | FileCheck %s --check-prefix=SINK
// RUN: not magicpig-opt %s --magicpig-sparsify="window-tokens=-3" 2>&1 | FileCheck %s --check-prefix=WINDOW
// RUN: not magicpig-opt %s --magicpig-sparsify="max-candidates=-1" 2>&1 | FileCheck %s --check-prefix=CAPACITY
// RUN: not magicpig-opt %s --magicpig-sparsify="dense-layers=0,5" 2>&1 | FileCheck %s --check-prefix=DENSE
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-bits=four" 2>&1 | FileCheck %s --check-prefix=PARSE
// RUN: not magicpig-opt %s --magicpig-sparsify="lsh-bits=16 lsh-tables=9223372036854775807" 2>&1 | FileCheck %s --check-prefix=PROJECTION

// BITS: error: magicpig-sparsify: option 'lsh-bits' must be in [1, 16], got 0
// BITS17: error: magicpig-sparsify: option 'lsh-bits' must be in [1, 16], got 17
// TABLES: error: magicpig-sparsify: option 'lsh-tables' must be >= 1, got 0
// THRESHOLD: error: magicpig-sparsify: option 'min-collisions' must be in [1, lsh-tables = 4], got 5
// SINK: error: magicpig-sparsify: option 'sink-tokens' must be >= 0, got -1
// WINDOW: error: magicpig-sparsify: option 'window-tokens' must be >= 0, got -3
// CAPACITY: error: magicpig-sparsify: option 'max-candidates' must be >= 0, got -1
// DENSE: error: magicpig-sparsify: option 'dense-layers' names layer 5 but the module has 2 attention layers (use -1 alone to keep none dense)
// PARSE: for the --lsh-bits option: 'four' value invalid for long argument
// PROJECTION: error: magicpig-sparsify: the SimHash projection [head dim 8, lsh-bits * lsh-tables] = [8, 16 * 9223372036854775807] exceeds 67108864 elements

func.func @two_layers(%q: tensor<1x4x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>) -> tensor<1x4x8xf32> {
  %o = tensor.empty() : tensor<1x4x8xf32>
  %r0 = magicpig.attention scale(0.35) ins(%q, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  %r1 = magicpig.attention scale(0.35) ins(%r0, %k, %v : tensor<1x4x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) outs(%o : tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %r1 : tensor<1x4x8xf32>
}
