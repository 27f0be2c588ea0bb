// The JIT generates code for the host CPU (AVX-512 where present), and -O3
// runs LLVM's optimizer with that CPU's cost model.

// RUN: magicpig-opt %s --convert-scf-to-cf --convert-arith-to-llvm \
// RUN:   --finalize-memref-to-llvm --convert-func-to-llvm \
// RUN:   --convert-cf-to-llvm --reconcile-unrealized-casts -o %t.mlir

// Every function carries the CPU that LLVM detects on this machine.
// RUN: llc --version | sed -n 's/^ *Host CPU: *//p' > %t.host-cpu
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 \
// RUN:   --dump-llvm-ir 2>&1 >/dev/null \
// RUN: | sed -n 's/.*"target-cpu"="\([^"]*\)".*/\1/p' | sort -u \
// RUN: | diff - %t.host-cpu

// -O3 vectorizes the loop; without -O the IR is left as translated.
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 \
// RUN:   --dump-llvm-ir 2>&1 >/dev/null | FileCheck %s --check-prefix=O3
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void \
// RUN:   --dump-llvm-ir 2>&1 >/dev/null | FileCheck %s --check-prefix=NOOPT
// O3: define void @scale
// O3: fmul {{.*}}<{{[0-9]+}} x float>
// NOOPT: define void @scale
// NOOPT-NOT: x float>
// NOOPT: define void @main

// The program still computes the right thing at -O3.
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 \
// RUN: | FileCheck %s
// CHECK: [0,  3,  6,  9,  12,  15,  18,  21,  24,  27,  30,  33,  36,  39,  42,  45

// -mcpu targets an older CPU than the host's: code for an AVX2 CPU without
// AVX-512 (haswell), whose vectors are 8 floats wide, still computes the same.
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN:   --dump-llvm-ir 2>&1 >/dev/null | FileCheck %s --check-prefix=AVX2
// AVX2: define void @scale({{.*}} #[[ATTRS:[0-9]+]]
// AVX2: fmul <8 x float>
// AVX2-NOT: <16 x float>
// AVX2: attributes #[[ATTRS]] = { {{.*}}"target-cpu"="haswell"
// RUN: magicpig-run %t.mlir -e main -entry-point-result=void -O3 -mcpu=haswell \
// RUN: | FileCheck %s

// A CPU the host cannot run, or no CPU at all, is refused before any code is
// generated.
// RUN: not magicpig-run %t.mlir -e main -entry-point-result=void \
// RUN:   -mcpu=diamondrapids 2>&1 | FileCheck %s --check-prefix=NEWER
// NEWER: magicpig-run: -mcpu=diamondrapids needs features this CPU lacks: {{.*}}amx
// RUN: not magicpig-run %t.mlir -e main -entry-point-result=void \
// RUN:   -mcpu=pentium-bogus 2>&1 | FileCheck %s --check-prefix=BOGUS
// BOGUS: magicpig-run: -mcpu=pentium-bogus is not a CPU of x86_64
// BOGUS-NOT: warning

// out[i] = 3 * in[i] over a dynamic size, which the vectorizer must handle.
func.func @scale(%in: memref<?xf32>, %out: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %three = arith.constant 3.0 : f32
  %n = memref.dim %in, %c0 : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %x = memref.load %in[%i] : memref<?xf32>
    %y = arith.mulf %x, %three : f32
    memref.store %y, %out[%i] : memref<?xf32>
  }
  return
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = arith.constant 64 : index
  %in = memref.alloc(%n) : memref<?xf32>
  %out = memref.alloc(%n) : memref<?xf32>
  scf.for %i = %c0 to %n step %c1 {
    %ii = arith.index_cast %i : index to i32
    %f = arith.sitofp %ii : i32 to f32
    memref.store %f, %in[%i] : memref<?xf32>
  }
  call @scale(%in, %out) : (memref<?xf32>, memref<?xf32>) -> ()
  %u = memref.cast %out : memref<?xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %in : memref<?xf32>
  memref.dealloc %out : memref<?xf32>
  return
}

func.func private @printMemrefF32(memref<*xf32>)
