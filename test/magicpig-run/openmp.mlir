// OpenMP-lowered code calls __kmpc_* and omp_* functions; the runner loads
// libomp by itself, so this needs no --shared-libs either.

// RUN: magicpig-opt %s --convert-scf-to-openmp --expand-strided-metadata \
// RUN:   --finalize-memref-to-llvm --convert-scf-to-cf \
// RUN:   --convert-openmp-to-llvm --convert-vector-to-llvm \
// RUN:   --convert-arith-to-llvm --convert-func-to-llvm \
// RUN:   --convert-cf-to-llvm --reconcile-unrealized-casts -o %t.mlir
// RUN: env OMP_NUM_THREADS=3 magicpig-run %t.mlir -e main \
// RUN:   -entry-point-result=void | FileCheck %s

// The lowered loop really is an OpenMP parallel region.
// RUN: FileCheck %s --check-prefix=IR < %t.mlir
// IR: omp.parallel

// libomp honours OMP_NUM_THREADS: the answer comes from the real runtime.
// CHECK: {{^}}3{{$}}
// CHECK-NEXT: rank = 1 offset = 0 sizes = [16] strides = [1]
// CHECK-NEXT: [0,  2,  4,  6,  8,  10,  12,  14,  16,  18,  20,  22,  24,  26,  28,  30]

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %threads = call @omp_get_max_threads() : () -> i32
  vector.print %threads : i32
  %buf = memref.alloc() : memref<16xf32>
  scf.parallel (%i) = (%c0) to (%c16) step (%c1) {
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %twice = arith.addf %f, %f : f32
    memref.store %twice, %buf[%i] : memref<16xf32>
    scf.reduce
  }
  %u = memref.cast %buf : memref<16xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %buf : memref<16xf32>
  return
}

func.func private @omp_get_max_threads() -> i32
func.func private @printMemrefF32(memref<*xf32>)
