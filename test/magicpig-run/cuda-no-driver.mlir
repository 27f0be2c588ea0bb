// A GPU program on a machine without a usable CUDA driver: the runner loads
// libmagicpig_cuda_runtime.so by itself (the module has a gpu.binary or calls
// mgpu* functions), and its first driver call prints exactly one line and
// exits non-zero instead of crashing.
// UNSUPPORTED: cuda-gpu

// RUN: split-file %s %t

// A kernel compiled to PTX (no CUDA toolkit needed) and launched.
// RUN: magicpig-opt %t/kernel.mlir --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa" \
// RUN:   -o %t/kernel-lowered.mlir
// RUN: not magicpig-run %t/kernel-lowered.mlir -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s
// RUN: not magicpig-run %t/kernel-lowered.mlir -e main -entry-point-result=void 2>&1 \
// RUN: | count 1

// Only runtime calls, no gpu.binary: still recognized as a GPU program.
// RUN: not magicpig-run %t/stream-only.mlir -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s

// CHECK: {{^}}magicpig: CUDA driver not available ({{.+}}){{$}}

//--- kernel.mlir
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %two = arith.constant 2.0 : f32
    %t0 = gpu.wait async
    %dev, %t1 = gpu.alloc async [%t0] () : memref<4xf32>
    %t2 = gpu.launch_func async [%t1] @kernels::@fill
        blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1)
        args(%dev : memref<4xf32>, %two : f32)
    %t3 = gpu.dealloc async [%t2] %dev : memref<4xf32>
    gpu.wait [%t3]
    return
  }
  gpu.module @kernels {
    gpu.func @fill(%out : memref<4xf32>, %value : f32) kernel {
      %i = gpu.thread_id x
      memref.store %value, %out[%i] : memref<4xf32>
      gpu.return
    }
  }
}

//--- stream-only.mlir
llvm.func @mgpuStreamCreate() -> !llvm.ptr
llvm.func @mgpuStreamDestroy(!llvm.ptr)
llvm.func @main() {
  %stream = llvm.call @mgpuStreamCreate() : () -> !llvm.ptr
  llvm.call @mgpuStreamDestroy(%stream) : (!llvm.ptr) -> ()
  llvm.return
}
