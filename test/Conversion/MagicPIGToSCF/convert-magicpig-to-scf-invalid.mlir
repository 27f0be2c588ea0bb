// convert-magicpig-to-scf lowers buffers only: a tensor-form op gets a
// diagnostic naming the missing step, and bad options are rejected.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file -verify-diagnostics
// RUN: not magicpig-opt %s --convert-magicpig-to-scf="vector-width=0" 2>&1 \
// RUN: | FileCheck %s --check-prefix=WIDTH
// RUN: not magicpig-opt %s --convert-magicpig-to-scf="vector-width=4294967296" 2>&1 \
// RUN: | FileCheck %s --check-prefix=HUGE
// RUN: not magicpig-opt %s --magicpig-lower-row-contractions="vector-width=128" 2>&1 \
// RUN: | FileCheck %s --check-prefix=ROWS
// RUN: not magicpig-opt %s --convert-magicpig-to-scf="key-block=0" 2>&1 \
// RUN: | FileCheck %s --check-prefix=BLOCK

// WIDTH: 'vector-width' must be in [1, 64], got 0
// A width of 2^32 once unrolled lanes until the lowering ran out of memory.
// HUGE: 'vector-width' must be in [1, 64], got 4294967296
// ROWS: vector-width must be a power of two in [4, 64]
// BLOCK: 'keys-per-task' and 'key-block' must be >= 1, got 2048 and 0

func.func @tensor_form(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x16xf32>) -> tensor<1x2x16xf32> {
  // expected-error @+1 {{'magicpig.key_norms' op must be bufferized before convert-magicpig-to-scf (run one-shot-bufferize, or the whole --magicpig-cpu-pipeline)}}
  %r = magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>)
         outs(%n : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  return %r : tensor<1x2x16xf32>
}
