// convert-magicpig-to-gpu lowers buffers only: a tensor-form op gets a
// diagnostic naming the missing step, and bad target options are rejected
// before anything is rewritten.
//
// RUN: magicpig-opt %s --convert-magicpig-to-gpu -split-input-file -verify-diagnostics
// RUN: not magicpig-opt %s --convert-magicpig-to-gpu="chip=sm_70" 2>&1 \
// RUN: | FileCheck %s --check-prefix=SM70
// RUN: not magicpig-opt %s --convert-magicpig-to-gpu="chip=gfx90a" 2>&1 \
// RUN: | FileCheck %s --check-prefix=NOTNV
// RUN: not magicpig-opt %s --convert-magicpig-to-gpu="chip=sm_85" 2>&1 \
// RUN: | FileCheck %s --check-prefix=UNKNOWN
// RUN: not magicpig-opt %s --convert-magicpig-to-gpu="threads-per-block=100" 2>&1 \
// RUN: | FileCheck %s --check-prefix=WARP
// RUN: not magicpig-opt %s --convert-magicpig-to-gpu="threads-per-block=2048" 2>&1 \
// RUN: | FileCheck %s --check-prefix=MAX

// SM70: error: convert-magicpig-to-gpu: chip 'sm_70' is older than sm_80, which the kernels (bf16 loads) and CUDA 13 need
// UNKNOWN: error: convert-magicpig-to-gpu: chip 'sm_85' is not an NVIDIA chip the NVPTX backend knows; valid: sm_80, sm_86, {{.*}}, sm_90, sm_90a, {{.*}}sm_120
// NOTNV: error: convert-magicpig-to-gpu: chip 'gfx90a' is not of the form sm_XY
// WARP: error: convert-magicpig-to-gpu: 'threads-per-block' must be a multiple of the warp size (32) between 32 and 1024, got 100
// MAX: error: convert-magicpig-to-gpu: 'threads-per-block' must be a multiple of the warp size (32) between 32 and 1024, got 2048

func.func @tensor_form(%oa: tensor<1x4x8xf32>, %la: tensor<1x4xf32>)
    -> (tensor<1x4x8xf32>, tensor<1x4xf32>) {
  // expected-error @+1 {{'magicpig.merge' op must be bufferized before convert-magicpig-to-gpu (run one-shot-bufferize, or the whole --magicpig-cuda-pipeline)}}
  %o, %l = magicpig.merge ins(%oa, %la, %oa, %la : tensor<1x4x8xf32>, tensor<1x4xf32>, tensor<1x4x8xf32>, tensor<1x4xf32>)
                          outs(%oa, %la : tensor<1x4x8xf32>, tensor<1x4xf32>) -> tensor<1x4x8xf32>, tensor<1x4xf32>
  return %o, %l : tensor<1x4x8xf32>, tensor<1x4xf32>
}

// -----

func.func @device_memory(%oa: memref<1x4x8xf32, 1>, %la: memref<1x4xf32>,
                         %o: memref<1x4x8xf32>, %l: memref<1x4xf32>) {
  // expected-error @+1 {{'magicpig.merge' op could not be placed on the device: its memrefs must be host buffers (default memory space)}}
  magicpig.merge ins(%oa, %la, %oa, %la : memref<1x4x8xf32, 1>, memref<1x4xf32>, memref<1x4x8xf32, 1>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x8xf32>, memref<1x4xf32>)
  return
}
