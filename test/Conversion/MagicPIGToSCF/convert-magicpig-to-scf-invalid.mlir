// convert-magicpig-to-scf lowers buffers only: a tensor-form op gets a
// diagnostic naming the missing step, and bad options are rejected.
//
// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file -verify-diagnostics
// RUN: not magicpig-opt %s --convert-magicpig-to-scf="vector-width=0" 2>&1 \
// RUN: | FileCheck %s --check-prefix=WIDTH
// RUN: not magicpig-opt %s --convert-magicpig-to-scf="key-block=0" 2>&1 \
// RUN: | FileCheck %s --check-prefix=BLOCK

// WIDTH: 'vector-width' must be >= 1, got 0
// BLOCK: 'keys-per-task' and 'key-block' must be >= 1, got 2048 and 0

func.func @tensor_form(%k: tensor<1x2x16x8xf32>, %n: tensor<1x2x16xf32>) -> tensor<1x2x16xf32> {
  // expected-error @+1 {{'magicpig.key_norms' op must be bufferized before convert-magicpig-to-scf (run one-shot-bufferize, or the whole --magicpig-cpu-pipeline)}}
  %r = magicpig.key_norms ins(%k : tensor<1x2x16x8xf32>)
         outs(%n : tensor<1x2x16xf32>) -> tensor<1x2x16xf32>
  return %r : tensor<1x2x16xf32>
}
