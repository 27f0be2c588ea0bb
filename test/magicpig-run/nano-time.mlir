// magicpigNanoTime from libmagicpig_runtime.so, loaded by default, is a
// monotonic clock: a later reading is never smaller than an earlier one.

// RUN: magicpig-opt %s --convert-scf-to-cf --convert-arith-to-llvm \
// RUN:   --convert-func-to-llvm --convert-cf-to-llvm \
// RUN:   --reconcile-unrealized-casts \
// RUN: | magicpig-run -e main -entry-point-result=i64 | FileCheck %s

// CHECK: {{^}}1{{$}}

func.func private @magicpigNanoTime() -> i64

// Returns 1 when 1000 successive readings never go backwards and the clock
// advanced over the loop, else 0.
func.func @main() -> i64 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1000 = arith.constant 1000 : index
  %true = arith.constant true
  %start = call @magicpigNanoTime() : () -> i64
  %last, %ok = scf.for %i = %c0 to %c1000 step %c1
      iter_args(%prev = %start, %good = %true) -> (i64, i1) {
    %now = func.call @magicpigNanoTime() : () -> i64
    %monotonic = arith.cmpi sge, %now, %prev : i64
    %stillGood = arith.andi %good, %monotonic : i1
    scf.yield %now, %stillGood : i64, i1
  }
  %advanced = arith.cmpi sgt, %last, %start : i64
  %all = arith.andi %ok, %advanced : i1
  %result = arith.extui %all : i1 to i64
  return %result : i64
}
