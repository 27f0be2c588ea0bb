// Runs a kernel on the GPU through libmagicpig_cuda_runtime.so: allocation,
// memset, launch, copy back and host registration of the result buffer.
// REQUIRES: cuda-gpu

// PTX is JIT-compiled by the driver, so any GPU from sm_80 up runs it.
// RUN: magicpig-opt %s --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa" \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s

// The kernel wrote 2.0 into elements 1..3; element 0 keeps the memset zero.
// CHECK: [0,  2,  2,  2]

module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c3 = arith.constant 3 : index
    %zero = arith.constant 0.0 : f32
    %two = arith.constant 2.0 : f32
    %host = memref.alloc() : memref<4xf32>
    %unranked = memref.cast %host : memref<4xf32> to memref<*xf32>
    gpu.host_register %unranked : memref<*xf32>
    %t0 = gpu.wait async
    %dev, %t1 = gpu.alloc async [%t0] () : memref<4xf32>
    %t2 = gpu.memset async [%t1] %dev, %zero : memref<4xf32>, f32
    %t3 = gpu.launch_func async [%t2] @kernels::@fill_tail
        blocks in (%c1, %c1, %c1) threads in (%c3, %c1, %c1)
        args(%dev : memref<4xf32>, %two : f32)
    %t4 = gpu.memcpy async [%t3] %host, %dev : memref<4xf32>, memref<4xf32>
    %t5 = gpu.dealloc async [%t4] %dev : memref<4xf32>
    gpu.wait [%t5]
    call @printMemrefF32(%unranked) : (memref<*xf32>) -> ()
    gpu.host_unregister %unranked : memref<*xf32>
    memref.dealloc %host : memref<4xf32>
    return
  }
  gpu.module @kernels {
    // out[i + 1] = value for each thread i.
    gpu.func @fill_tail(%out : memref<4xf32>, %value : f32) kernel {
      %c1 = arith.constant 1 : index
      %i = gpu.thread_id x
      %j = arith.addi %i, %c1 : index
      memref.store %value, %out[%j] : memref<4xf32>
      gpu.return
    }
  }
  func.func private @printMemrefF32(memref<*xf32>)
}
