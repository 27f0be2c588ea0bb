// A function lowered with upstream passes runs without --shared-libs: the
// runner loads MLIR's runner utilities (printMemrefF32) by itself.

// RUN: magicpig-opt %s --convert-scf-to-cf --convert-arith-to-llvm \
// RUN:   --finalize-memref-to-llvm --convert-func-to-llvm \
// RUN:   --convert-cf-to-llvm --reconcile-unrealized-casts \
// RUN: | magicpig-run -e main -entry-point-result=void | FileCheck %s

// The same input from a file, optimized at -O3.
// RUN: magicpig-opt %s --convert-scf-to-cf --convert-arith-to-llvm \
// RUN:   --finalize-memref-to-llvm --convert-func-to-llvm \
// RUN:   --convert-cf-to-llvm --reconcile-unrealized-casts -o %t.mlir
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 \
// RUN: | FileCheck %s

// CHECK: rank = 1 offset = 0 sizes = [8] strides = [1]
// CHECK-NEXT: [0,  1,  4,  9,  16,  25,  36,  49]

// Squares of 0..7.
func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %buf = memref.alloc() : memref<8xf32>
  scf.for %i = %c0 to %c8 step %c1 {
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    %sq = arith.mulf %f, %f : f32
    memref.store %sq, %buf[%i] : memref<8xf32>
  }
  %u = memref.cast %buf : memref<8xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %buf : memref<8xf32>
  return
}

func.func private @printMemrefF32(memref<*xf32>)
