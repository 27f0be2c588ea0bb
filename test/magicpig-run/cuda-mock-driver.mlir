// The mgpu* wrappers against a fake driver (Inputs/MockCudaDriver.cpp, built
// as libcuda.so.1 in %mock_cuda_dir): checks on any machine that each wrapper
// reaches the right driver entry point with the arguments the gpu-to-llvm
// lowering passed, and that driver failures end in one clear line.

// RUN: split-file %s %t
// RUN: magicpig-opt %t/program.mlir --gpu-lower-to-nvvm-pipeline="cubin-chip=sm_80 cubin-features=+ptx80 cubin-format=isa" \
// RUN:   -o %t/program-lowered.mlir
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir magicpig-run %t/program-lowered.mlir \
// RUN:   -e main -entry-point-result=void 2> %t/driver.log | FileCheck %s --check-prefix=OUT
// RUN: FileCheck %s --check-prefix=LOG < %t/driver.log

// The fake device memory is host memory: the memset value comes back.
// OUT: [2,  2,  2,  2]

// The module is loaded by a global constructor, in the primary context.
// LOG:      mock: cuInit flags=0
// LOG-NEXT: mock: cuDeviceGet ordinal=0
// LOG-NEXT: mock: cuDevicePrimaryCtxRetain device=0
// LOG-NEXT: mock: cuCtxSetCurrent primary=1
// LOG-NEXT: mock: cuModuleLoadDataEx level=2 .target sm_80
// 4 x f32 host buffer; host_shared is managed memory (CU_MEM_ATTACH_GLOBAL).
// LOG-NEXT: mock: cuMemHostRegister_v2 bytes=16 flags=0
// LOG-NEXT: mock: cuMemAllocManaged bytes=16 flags=1
// Streams do not synchronize with the NULL stream (CU_STREAM_NON_BLOCKING).
// LOG:      mock: cuStreamCreate flags=1
// LOG:      mock: cuMemAlloc_v2 bytes=16
// LOG-NEXT: mock: cuMemsetD32Async value=0x40000000 count=4
// Joining two streams goes through events without timing.
// LOG-NEXT: mock: cuEventCreate flags=2
// LOG-NEXT: mock: cuEventRecord known=1
// LOG-NEXT: mock: cuMemAlloc_v2 bytes=16
// LOG-NEXT: mock: cuMemsetD16Async value=0x3c00 count=8
// LOG:      mock: cuStreamWaitEvent known=1 flags=0
// LOG:      mock: cuEventDestroy_v2 known=1
// LOG:      mock: cuModuleGetFunction fill known=1
// 64 KiB of dynamic shared memory needs the opt-in attribute first.
// LOG-NEXT: mock: cuFuncSetAttribute attribute=8 value=65536
// LOG-NEXT: mock: cuLaunchKernel known=1 grid=1x1x1 block=4x1x1 shared=65536 stream=1 params=1 extra=0
// LOG-NEXT: mock: cuMemcpyAsync bytes=16 stream=1
// LOG-NEXT: mock: cuMemFree_v2
// LOG:      mock: cuStreamSynchronize known=1
// LOG-NEXT: mock: cuStreamDestroy_v2 known=1
// LOG:      mock: cuMemHostUnregister
// LOG-NEXT: mock: cuModuleUnload known=1

// A failing driver call stops the program with one line naming it.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir MOCK_CUDA_FAIL=cuLaunchKernel \
// RUN:   not magicpig-run %t/program-lowered.mlir -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=LAUNCH
// LAUNCH: {{^}}magicpig: cuLaunchKernel failed: CUDA_ERROR_LAUNCH_FAILED: mock failure{{$}}
// LAUNCH-NOT: {{.}}

// A driver without devices is reported like a missing driver.
// RUN: env LD_LIBRARY_PATH=%mock_cuda_dir MOCK_CUDA_NO_DEVICE=1 \
// RUN:   not magicpig-run %t/program-lowered.mlir -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=NO-DEVICE
// NO-DEVICE: {{^}}magicpig: CUDA driver not available (cuInit: CUDA_ERROR_NO_DEVICE: no CUDA-capable device is detected){{$}}

// RUN: magicpig-opt %t/bad-device.mlir --gpu-to-llvm --convert-arith-to-llvm \
// RUN:   --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | env LD_LIBRARY_PATH=%mock_cuda_dir not magicpig-run -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=DEVICE
// DEVICE: {{^}}magicpig: CUDA device 1 does not exist (1 found){{$}}

// RUN: magicpig-opt %t/strided-register.mlir --expand-strided-metadata --gpu-to-llvm \
// RUN:   --finalize-memref-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | env LD_LIBRARY_PATH=%mock_cuda_dir not magicpig-run -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=STRIDED
// STRIDED: {{^}}magicpig: mgpuMemHostRegisterMemRef: only contiguous memrefs can be registered (dimension 0 has stride 4, expected 1){{$}}

// Empty buffers (e.g. a dynamic window of 0 keys) reach no copy or memset in
// the driver: an empty allocation has no device pointer.
// RUN: magicpig-opt %t/empty.mlir --gpu-to-llvm --convert-arith-to-llvm \
// RUN:   --finalize-memref-to-llvm --convert-func-to-llvm --reconcile-unrealized-casts \
// RUN: | env LD_LIBRARY_PATH=%mock_cuda_dir magicpig-run -e main -entry-point-result=void 2>&1 \
// RUN: | FileCheck %s --check-prefix=EMPTY
// EMPTY: mock: cuStreamCreate
// EMPTY-NOT: cuMemAlloc
// EMPTY-NOT: cuMemsetD
// EMPTY-NOT: cuMemcpyAsync
// EMPTY: mock: cuStreamSynchronize
// EMPTY: empty buffers done

//--- program.mlir
// Streams, events, device/managed/host-registered memory, both memsets, a
// launch with 64 KiB of dynamic shared memory, and the copy back.
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : index
    %c4 = arith.constant 4 : index
    %shared = arith.constant 65536 : i32
    %two = arith.constant 2.0 : f32
    %one16 = arith.constant 1.0 : f16
    %host = memref.alloc() : memref<4xf32>
    %unranked = memref.cast %host : memref<4xf32> to memref<*xf32>
    gpu.host_register %unranked : memref<*xf32>
    %managed = gpu.alloc host_shared () : memref<4xf32>
    %a0 = gpu.wait async
    %b0 = gpu.wait async
    %dev, %a1 = gpu.alloc async [%a0] () : memref<4xf32>
    %a2 = gpu.memset async [%a1] %dev, %two : memref<4xf32>, f32
    %half, %b1 = gpu.alloc async [%b0] () : memref<8xf16>
    %b2 = gpu.memset async [%b1] %half, %one16 : memref<8xf16>, f16
    %j = gpu.wait async [%a2, %b2]
    %l = gpu.launch_func async [%j] @kernels::@fill
        blocks in (%c1, %c1, %c1) threads in (%c4, %c1, %c1)
        dynamic_shared_memory_size %shared
        args(%dev : memref<4xf32>, %two : f32)
    %c = gpu.memcpy async [%l] %host, %dev : memref<4xf32>, memref<4xf32>
    %d1 = gpu.dealloc async [%c] %dev : memref<4xf32>
    %d2 = gpu.dealloc async [%d1] %half : memref<8xf16>
    gpu.wait [%d2]
    %m = gpu.wait async
    %m1 = gpu.dealloc async [%m] %managed : memref<4xf32>
    gpu.wait [%m1]
    gpu.host_unregister %unranked : memref<*xf32>
    call @printMemrefF32(%unranked) : (memref<*xf32>) -> ()
    memref.dealloc %host : memref<4xf32>
    return
  }
  gpu.module @kernels {
    gpu.func @fill(%out : memref<4xf32>, %value : f32) kernel {
      %i = gpu.thread_id x
      memref.store %value, %out[%i] : memref<4xf32>
      gpu.return
    }
  }
  func.func private @printMemrefF32(memref<*xf32>)
}

//--- empty.mlir
module attributes {gpu.container_module} {
  func.func @main() {
    %zero = arith.constant 0.0 : f32
    %zero16 = arith.constant 0.0 : f16
    %host = memref.alloc() : memref<0xf32>
    %t0 = gpu.wait async
    %dev, %t1 = gpu.alloc async [%t0] () : memref<0xf32>
    %half, %t2 = gpu.alloc async [%t1] () : memref<0xf16>
    %t3 = gpu.memset async [%t2] %dev, %zero : memref<0xf32>, f32
    %t4 = gpu.memset async [%t3] %half, %zero16 : memref<0xf16>, f16
    %t5 = gpu.memcpy async [%t4] %dev, %host : memref<0xf32>, memref<0xf32>
    %t6 = gpu.memcpy async [%t5] %host, %dev : memref<0xf32>, memref<0xf32>
    %t7 = gpu.dealloc async [%t6] %dev : memref<0xf32>
    %t8 = gpu.dealloc async [%t7] %half : memref<0xf16>
    gpu.wait [%t8]
    memref.dealloc %host : memref<0xf32>
    vector.print str "empty buffers done\n"
    return
  }
}

//--- bad-device.mlir
// Only device 0 exists in the fake driver.
module attributes {gpu.container_module} {
  func.func @main() {
    %c1 = arith.constant 1 : i32
    gpu.set_default_device %c1
    %t = gpu.wait async
    gpu.wait [%t]
    return
  }
}

//--- strided-register.mlir
// A column of a 4x4 matrix is not one contiguous range of host memory.
func.func @main() {
  %m = memref.alloc() : memref<4x4xf32>
  %col = memref.subview %m[0, 1] [4, 1] [1, 1] : memref<4x4xf32> to memref<4x1xf32, strided<[4, 1], offset: 1>>
  %u = memref.cast %col : memref<4x1xf32, strided<[4, 1], offset: 1>> to memref<*xf32>
  gpu.host_register %u : memref<*xf32>
  return
}
