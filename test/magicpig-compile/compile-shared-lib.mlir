// A module lowered with an explicit pipeline compiles to a shared library
// whose C entry point computes y = a * x + y.
// RUN: magicpig-compile %S/Inputs/axpy.mlir -o %t.so --attention=dense --lowering-pipeline="convert-scf-to-cf,finalize-memref-to-llvm,convert-arith-to-llvm,convert-func-to-llvm,convert-cf-to-llvm,reconcile-unrealized-casts" 2>&1 | FileCheck %s --check-prefix=PROGRESS
// RUN: python3 %S/Inputs/call_axpy.py %t.so | FileCheck %s

// PROGRESS: [magicpig-compile] 1/6 parse
// PROGRESS: [magicpig-compile] 6/6 link {{.*}}.so... done

// CHECK: 1 3 5 7 9
